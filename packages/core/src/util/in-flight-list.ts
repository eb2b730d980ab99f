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
 * Not a `Set`: V8 (Node 20 and 24) promotes to the old generation every young object that a
 * long-lived `Map` or `Set` holds when a young collection runs, with everything it references, even
 * if it is deleted a moment later. A server that keeps each request's response in a `Set` until it
 * ends had every request that was in flight at a collection copied to the old generation (2.1 KB per
 * request through `fusion serve`, 300 times what a proxy promotes), to be found by the next full
 * collection. Linked nodes are ordinary objects: what is in flight survives a young collection, as
 * it must, and what ended dies young (`bench/gateway` measures it with `--trace-gc-nvp`).
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
