/** Lookups of ids not placed since the load that scan the slot array before the whole map is built. */
const SCAN_LIMIT = 64;

/**
 * Id → slot lookups over an index's slot array (`ids[slot]`, a hole or null where free), without
 * building a map of every id when the index is loaded: ids placed since go into a small map, other
 * lookups scan the array (a few, e.g. the deletes of a replayed log), and past {@link SCAN_LIMIT}
 * scans (or on `build()`) the map of every id is built once and used from then on.
 */
export class IdSlots {
  readonly #ids: readonly (string | null | undefined)[];
  #all: Map<string, number> | undefined;
  #recent = new Map<string, number>();
  #scans = 0;

  /** `loaded`: `ids` holds slots already (a loaded index); else it starts empty and the map is kept whole. */
  constructor(ids: readonly (string | null | undefined)[], loaded: boolean) {
    this.#ids = ids;
    if (!loaded) this.#all = new Map();
  }

  get(id: string): number | undefined {
    if (this.#all) return this.#all.get(id);
    const recent = this.#recent.get(id);
    if (recent !== undefined) return recent;
    if (++this.#scans > SCAN_LIMIT) return this.build().get(id);
    const slot = this.#ids.indexOf(id);
    return slot === -1 ? undefined : slot;
  }

  set(id: string, slot: number): void {
    (this.#all ?? this.#recent).set(id, slot);
  }

  delete(id: string): void {
    this.#all?.delete(id);
    this.#recent.delete(id);
  }

  /** The map of every id (built on the first call after a load). */
  build(): Map<string, number> {
    if (this.#all) return this.#all;
    const all = new Map<string, number>();
    this.#ids.forEach((id, slot) => {
      if (typeof id === 'string') all.set(id, slot);
    });
    this.#all = all;
    this.#recent = new Map();
    return all;
  }
}
