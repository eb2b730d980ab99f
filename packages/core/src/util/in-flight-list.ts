/** The place of one item in an {@link InFlightList}, returned by `add` and given back to `remove`. */
export interface InFlightEntry<T> {
  readonly item: T;
}

interface Node<T> extends InFlightEntry<T> {
  previous: Node<T> | undefined;
  next: Node<T> | undefined;
  removed: boolean;
}

/**
 * The items of a long-lived owner that are in flight now (requests, their scopes, responses), in the
 * order they were added, with `add` and `remove` in constant time through the entry `add` returns.
 *
 * Not a `Set`: through `fusion serve`, the `Set` that held each open response until it ended made V8
 * promote ~2.3 KB per chat to the old generation (`--trace-gc-nvp`; a proxy promotes ~40 bytes), as
 * if every request in flight at a young collection was kept past the next one; with this list, 0.2
 * to 0.6 KB (`node bench/observability/callgrind.mjs --mode=allocations` prints bytes promoted per
 * request). Likely cause: a long-lived `Set` rehashes into new tables in the old generation, and a
 * dropped old-generation table keeps its young entries alive through young collections until a full
 * collection finds it; a small program shows the effect for `Map` and `Set` in some runs only.
 */
export class InFlightList<T> {
  #head: Node<T> | undefined;
  #tail: Node<T> | undefined;
  #size = 0;

  /** Items in the list now. */
  get size(): number {
    return this.#size;
  }

  /** The item added first of those still in the list. */
  oldest(): T | undefined {
    return this.#head?.item;
  }

  /** Adds `item` at the end; its entry removes it. */
  add(item: T): InFlightEntry<T> {
    const node: Node<T> = { item, previous: this.#tail, next: undefined, removed: false };
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
    return node;
  }

  /** Removes the item of `entry`; removing it again does nothing. */
  remove(entry: InFlightEntry<T>): void {
    const node = entry as Node<T>;
    if (node.removed) return;
    node.removed = true;
    const { previous, next } = node;
    if (previous) previous.next = next;
    else this.#head = next;
    if (next) next.previous = previous;
    else this.#tail = previous;
    // A removed node keeps no other in flight alive.
    node.previous = undefined;
    node.next = undefined;
    this.#size--;
  }

  /** The items now, in the order they were added (a copy: the list may change while it is read). */
  [Symbol.iterator](): IterableIterator<T> {
    const items: T[] = [];
    for (let node = this.#head; node !== undefined; node = node.next) items.push(node.item);
    return items[Symbol.iterator]();
  }
}
