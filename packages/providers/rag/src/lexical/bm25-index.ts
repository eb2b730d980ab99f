import { SlotIds } from '../util/slot-ids.js';
import type { Bm25Options, Bm25SearchOptions, ScoredId } from './bm25-options.js';
import type { Bm25Snapshot } from './bm25-snapshot.js';
import { type Analyzer, createEnglishAnalyzer, ENGLISH_ANALYZER_ID } from './english-analyzer.js';
import { appendPosting, newPosting, type Posting, removePosting } from './posting-list.js';
import { TopK } from './top-k.js';

/**
 * An Okapi BM25 index scored like Lucene's `BM25Similarity` (idf `ln(1 + (N - df + 0.5) / (df + 0.5))`,
 * exact document lengths). Postings are kept per term, so documents are added and deleted one at a
 * time without a rebuild; a search is term-at-a-time over the query's postings only. Terms are
 * interned: documents hold term ids in typed arrays, which keeps memory and load time low.
 */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly analyzer: Analyzer;
  readonly analyzerId: string;
  readonly #termIds = new Map<string, number>();
  readonly #terms: string[] = [];
  readonly #postings: (Posting | undefined)[] = [];
  /** A loaded snapshot's postings, taken as views on its buffer when a term is first used (`#postingOf`). */
  #stored: NonNullable<Bm25Snapshot['postings']> | undefined;
  /** Terms of `#stored` not viewed yet (1). */
  #unviewed = new Uint8Array(0);
  #live = 0;
  /** The id in each slot (a loaded snapshot's stay in its bytes). */
  #ids = new SlotIds();
  #lengths: number[] = [];
  // A document's term ids and frequencies are `count` entries from `start` in these arrays, which a
  // loaded snapshot shares between all its documents (no per-document allocation on load).
  #termArrays: (Uint32Array | undefined)[] = [];
  #frequencyArrays: (Uint32Array | undefined)[] = [];
  #starts: number[] = [];
  #counts: number[] = [];
  readonly #freeSlots: number[] = [];
  #totalLength = 0;
  #norms = new Float64Array(0);
  #normsValid = false;
  #scores = new Float64Array(0);
  #allowed = new Int8Array(0);

  constructor(options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 0.9;
    this.b = options.b ?? 0.4;
    this.analyzer = options.analyzer ?? createEnglishAnalyzer();
    this.analyzerId = options.analyzerId ?? ENGLISH_ANALYZER_ID;
  }

  /** Number of indexed documents. */
  get size(): number {
    return this.#live;
  }

  has(id: string): boolean {
    return this.#ids.slotOf(id) !== undefined;
  }

  /**
   * Indexes a text under `id`, replacing what `id` held before. `absent: true` says the caller knows
   * `id` is not indexed, which saves looking it up.
   */
  add(id: string, text: string, options: { absent?: boolean } = {}): void {
    const counts = new Map<number, number>();
    const terms = this.analyzer(text);
    for (const term of terms) {
      let termId = this.#termIds.get(term);
      if (termId === undefined) {
        termId = this.#terms.push(term) - 1;
        this.#termIds.set(term, termId);
      }
      counts.set(termId, (counts.get(termId) ?? 0) + 1);
    }
    if (!options.absent) this.delete(id);
    this.#insert(
      id,
      terms.length,
      Uint32Array.from(counts.keys()),
      Uint32Array.from(counts.values()),
      0,
      counts.size,
    );
  }

  /** Removes a document and its postings. Returns false when `id` was not indexed. */
  delete(id: string): boolean {
    const slot = this.#ids.delete(id);
    if (slot === undefined) return false;
    const termIds = this.#termArrays[slot]!;
    const start = this.#starts[slot]!;
    for (let entry = start; entry < start + this.#counts[slot]!; entry++) {
      const termId = termIds[entry]!;
      const posting = this.#postingOf(termId)!;
      removePosting(posting, slot);
      if (posting.length === 0) this.#postings[termId] = undefined;
    }
    this.#totalLength -= this.#lengths[slot]!;
    this.#live--;
    this.#termArrays[slot] = undefined;
    this.#frequencyArrays[slot] = undefined;
    this.#counts[slot] = 0;
    this.#lengths[slot] = 0;
    this.#freeSlots.push(slot);
    this.#normsValid = false;
    return true;
  }

  /** The `k` best documents for a query, best first. Documents the filter rejects are never scored. */
  search(query: string, options: Bm25SearchOptions): ScoredId[] {
    const queryCounts = new Map<Posting, number>();
    for (const term of this.analyzer(query)) {
      const termId = this.#termIds.get(term);
      const posting = termId === undefined ? undefined : this.#postingOf(termId);
      if (posting) queryCounts.set(posting, (queryCounts.get(posting) ?? 0) + 1);
    }
    if (queryCounts.size === 0 || options.k <= 0) return [];
    this.#prepareScoring();
    const { filter } = options;
    const scores = this.#scores;
    const allowed = this.#allowed;
    const norms = this.#norms;
    const touched: number[] = [];
    const checked: number[] = [];
    const documentCount = this.size;
    const k1Plus1 = this.k1 + 1;
    for (const [{ slots, frequencies, length: df }, queryFrequency] of queryCounts) {
      const weight = queryFrequency * Math.log(1 + (documentCount - df + 0.5) / (df + 0.5)) * k1Plus1;
      for (let index = 0; index < df; index++) {
        const slot = slots[index]!;
        if (filter) {
          let state = allowed[slot]!;
          if (state === 0) {
            state = filter(this.#ids.at(slot)!) ? 1 : 2;
            allowed[slot] = state;
            checked.push(slot);
          }
          if (state === 2) continue;
        }
        const frequency = frequencies[index]!;
        if (scores[slot] === 0) touched.push(slot);
        scores[slot]! += (weight * frequency) / (frequency + norms[slot]!);
      }
    }
    const best = new TopK<number>(options.k);
    for (const slot of touched) {
      best.push(slot, scores[slot]!);
      scores[slot] = 0;
    }
    for (const slot of checked) allowed[slot] = 0;
    return best.sorted().map(({ item, score }) => ({ id: this.#ids.at(item)!, score }));
  }

  /** A compact copy for persistence (terms no document uses are dropped); see `encodeBm25Snapshot`. */
  snapshot(): Bm25Snapshot {
    const ids: string[] = [];
    const lengths = new Uint32Array(this.size);
    const termCounts = new Uint32Array(this.size);
    let entries = 0;
    for (let slot = 0; slot < this.#ids.length; slot++) entries += this.#counts[slot] ?? 0;
    const termIds = new Uint32Array(entries);
    const frequencies = new Uint32Array(entries);
    const remap = new Int32Array(this.#terms.length).fill(-1);
    const terms: string[] = [];
    let offset = 0;
    for (let slot = 0; slot < this.#ids.length; slot++) {
      const id = this.#ids.at(slot);
      if (id === undefined) continue;
      const documentTerms = this.#termArrays[slot]!;
      const documentFrequencies = this.#frequencyArrays[slot]!;
      const start = this.#starts[slot]!;
      const count = this.#counts[slot]!;
      lengths[ids.length] = this.#lengths[slot]!;
      termCounts[ids.length] = count;
      ids.push(id);
      for (let entry = start; entry < start + count; entry++) {
        const termId = documentTerms[entry]!;
        if (remap[termId] === -1) remap[termId] = terms.push(this.#terms[termId]!) - 1;
        frequencies[offset] = documentFrequencies[entry]!;
        termIds[offset++] = remap[termId]!;
      }
    }
    const header = { version: 2 as const, k1: this.k1, b: this.b, analyzerId: this.analyzerId, terms, ids };
    return { header, lengths, termCounts, termIds, frequencies };
  }

  static fromSnapshot(snapshot: Bm25Snapshot, options: Omit<Bm25Options, 'k1' | 'b'> = {}): Bm25Index {
    const { header } = snapshot;
    const index = new Bm25Index({ ...options, k1: header.k1, b: header.b });

    if (header.analyzerId !== index.analyzerId) {
      throw new Error(`BM25 snapshot was made by analyzer '${header.analyzerId}', not '${index.analyzerId}'`);
    }
    header.terms.forEach((term, termId) => {
      index.#terms.push(term);
      index.#termIds.set(term, termId);
    });
    const { termIds, frequencies, termCounts, lengths, postings } = snapshot;
    if (postings) {
      // Version 3: the postings are views on the snapshot's buffer, taken when a term is first used
      // (most never are between a load and the next snapshot); a posting that grows is copied.
      index.#stored = postings;
      index.#unviewed = new Uint8Array(header.terms.length).fill(1);
    } else {
      // Postings are allocated at their final size: one pass to count document frequencies first.
      const documentFrequencies = new Uint32Array(header.terms.length);
      for (const termId of termIds) documentFrequencies[termId]!++;
      documentFrequencies.forEach((df, termId) => {
        if (df > 0) index.#postings[termId] = newPosting(df);
      });
    }
    // Slot = position in the snapshot, which the stored postings refer to.
    const ids = snapshot.storedIds ?? SlotIds.store(header.ids ?? []);
    index.#ids = new SlotIds(ids);
    const documents = ids.offsets.length - 1;
    if (lengths.length !== documents || termCounts.length !== documents)
      throw new Error('BM25 snapshot is truncated or corrupt');
    // The per-slot arrays are made whole (not pushed to a slot at a time): a load of 100k documents
    // spends most of its BM25 time here otherwise.
    index.#lengths = Array.from(lengths);
    index.#counts = Array.from(termCounts);
    index.#termArrays = new Array<Uint32Array>(documents).fill(termIds);
    index.#frequencyArrays = new Array<Uint32Array>(documents).fill(frequencies);
    const starts = new Array<number>(documents);
    let offset = 0;
    let totalLength = 0;
    for (let position = 0; position < documents; position++) {
      starts[position] = offset;
      offset += termCounts[position]!;
      totalLength += lengths[position]!;
    }
    if (offset !== termIds.length) throw new Error('BM25 snapshot is truncated or corrupt');
    index.#starts = starts;
    index.#live = documents;
    index.#totalLength = totalLength;
    if (!postings) {
      for (let position = 0; position < documents; position++)
        index.#post(position, termIds, frequencies, starts[position]!, termCounts[position]!);
    }
    return index;
  }

  /** A term's posting (a view on the loaded snapshot's, the first time a snapshot term is used). */
  #postingOf(termId: number): Posting | undefined {
    if (this.#unviewed[termId] === 1) {
      this.#unviewed[termId] = 0;
      const stored = this.#stored!;
      const start = stored.starts[termId]!;
      const end = stored.starts[termId + 1]!;
      if (end > start) {
        this.#postings[termId] = {
          slots: stored.documents.subarray(start, end),
          frequencies: stored.frequencies.subarray(start, end),
          length: end - start,
        };
      }
    }
    return this.#postings[termId];
  }

  /** Adds a document not in the index, whose entries are `count` from `start` in the arrays. */
  #insert(
    id: string,
    length: number,
    termIds: Uint32Array,
    frequencies: Uint32Array,
    start: number,
    count: number,
  ) {
    const slot = this.#freeSlots.pop() ?? this.#ids.length;
    this.#ids.set(slot, id);
    this.#place(slot, length, termIds, frequencies, start, count);
    this.#post(slot, termIds, frequencies, start, count);
  }

  /** Fills a document's slot (its id is set already), without postings. */
  #place(
    slot: number,
    length: number,
    termIds: Uint32Array,
    frequencies: Uint32Array,
    start: number,
    count: number,
  ): void {
    this.#lengths[slot] = length;
    this.#termArrays[slot] = termIds;
    this.#frequencyArrays[slot] = frequencies;
    this.#starts[slot] = start;
    this.#counts[slot] = count;
    this.#live++;
    this.#totalLength += length;
    this.#normsValid = false;
  }

  /** Appends a slot's entries to the postings of its terms. */
  #post(slot: number, termIds: Uint32Array, frequencies: Uint32Array, start: number, count: number) {
    for (let index = start; index < start + count; index++) {
      const termId = termIds[index]!;
      let posting = this.#postingOf(termId);
      if (!posting) this.#postings[termId] = posting = newPosting(4);
      appendPosting(posting, slot, frequencies[index]!);
    }
  }

  /** Recomputes per-document length norms after the average length changed, and grows scratch arrays. */
  #prepareScoring(): void {
    const slots = this.#ids.length;
    if (this.#scores.length < slots) {
      const capacity = Math.max(slots, this.#scores.length * 2, 64);
      this.#scores = new Float64Array(capacity);
      this.#allowed = new Int8Array(capacity);
      this.#norms = new Float64Array(capacity);
      this.#normsValid = false;
    }
    if (this.#normsValid) return;
    const average = this.#totalLength / Math.max(1, this.size) || 1;
    const { k1, b } = this;
    for (let slot = 0; slot < slots; slot++) {
      this.#norms[slot] = k1 * (1 - b + (b * this.#lengths[slot]!) / average);
    }
    this.#normsValid = true;
  }
}
