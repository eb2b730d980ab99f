/**
 * A Map that forgets its least recently used entry past `maxEntries`: the default in-memory store of
 * the embedding cache, so that ingesting a large corpus does not keep every vector twice.
 */
export class BoundedMap<TKey, TValue> extends Map<TKey, TValue> {
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    super();
    this.maxEntries = maxEntries;
  }

  override get(key: TKey): TValue | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      // Re-insert to mark as recently used (Map keeps insertion order).
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  override set(key: TKey, value: TValue): this {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.maxEntries) {
      const oldest = this.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    return this;
  }
}
