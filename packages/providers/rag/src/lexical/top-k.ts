/**
 * Keeps the `k` best-scoring items seen so far in a binary min-heap: O(n log k) for n pushes and no
 * allocation per push. Ties keep the item pushed first.
 */
export class TopK<TItem> {
  readonly #k: number;
  readonly #items: TItem[] = [];
  readonly #scores: number[] = [];

  constructor(k: number) {
    this.#k = Math.max(0, Math.floor(k));
  }

  /** The lowest score still kept, or -Infinity while fewer than `k` items are held. */
  get threshold(): number {
    return this.#items.length < this.#k ? Number.NEGATIVE_INFINITY : this.#scores[0]!;
  }

  push(item: TItem, score: number): void {
    if (this.#k === 0) return;
    const items = this.#items;
    const scores = this.#scores;
    if (items.length < this.#k) {
      items.push(item);
      scores.push(score);
      this.#siftUp(items.length - 1);
    } else if (score > scores[0]!) {
      items[0] = item;
      scores[0] = score;
      this.#siftDown(0);
    }
  }

  /** The kept items, best first. */
  sorted(): { item: TItem; score: number }[] {
    const result = this.#items.map((item, index) => ({ item, score: this.#scores[index]! }));
    return result.sort((left, right) => right.score - left.score);
  }

  #siftUp(index: number): void {
    const scores = this.#scores;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (scores[parent]! <= scores[index]!) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #siftDown(index: number): void {
    const scores = this.#scores;
    const length = scores.length;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < length && scores[left]! < scores[smallest]!) smallest = left;
      if (right < length && scores[right]! < scores[smallest]!) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const scores = this.#scores;
    [items[a], items[b]] = [items[b]!, items[a]!];
    [scores[a], scores[b]] = [scores[b]!, scores[a]!];
  }
}
