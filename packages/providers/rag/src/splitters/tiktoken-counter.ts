import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** A rank table as `js-tiktoken/ranks/*` ships it. */
export interface TiktokenRanks {
  pat_str: string;
  special_tokens: Record<string, number>;
  /** One line per block: `<name> <first rank> <base64 token> <base64 token> …`. */
  bpe_ranks: string;
}

/** Most tokens added to the table between two yields to the event loop while it loads asynchronously. */
const TOKENS_PER_SLICE = 1000;
/** Most milliseconds of one slice (a busy machine runs a slice of tokens slower). */
const SLICE_MS = 4;

/**
 * Counts the tokens of `js-tiktoken`'s BPE (same pieces, same merges, special-token text counted as
 * text) over a rank table keyed by byte strings. `js-tiktoken` builds its table in one synchronous
 * step (seconds for `o200k_base` on a busy machine); {@link TiktokenCounter.load} builds this one in
 * slices, yielding to the event loop between them, so a server keeps answering while it loads.
 */
export class TiktokenCounter {
  readonly #pattern: RegExp;
  /** Token bytes (one latin1 character per byte) to rank. */
  readonly #ranks: Map<string, number>;

  private constructor(pattern: string, ranks: Map<string, number>) {
    this.#pattern = new RegExp(pattern, 'gu');
    this.#ranks = ranks;
  }

  /** Builds the table at once (library use without a prior {@link TiktokenCounter.load}). */
  static fromRanks(ranks: TiktokenRanks): TiktokenCounter {
    const table = new Map<string, number>();
    for (const step of fillRanks(ranks.bpe_ranks, table, Number.POSITIVE_INFINITY)) void step;
    return new TiktokenCounter(ranks.pat_str, table);
  }

  /** Reads and builds the table of an encoding without holding the event loop for long. */
  static async load(encoding: string): Promise<TiktokenCounter> {
    const ranks = await readRanks(encoding);
    const table = new Map<string, number>();
    for (const step of fillRanks(ranks.bpe_ranks, table, TOKENS_PER_SLICE, SLICE_MS)) {
      void step;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return new TiktokenCounter(ranks.pat_str, table);
  }

  /** Reads an encoding's table synchronously. */
  static loadSync(encoding: string): TiktokenCounter {
    return TiktokenCounter.fromRanks(requireRanks(encoding));
  }

  count(text: string): number {
    let count = 0;
    for (const match of text.matchAll(this.#pattern)) {
      const piece = Buffer.from(match[0], 'utf8').toString('latin1');
      count += this.#ranks.has(piece) ? 1 : mergedLength(piece, this.#ranks);
    }
    return count;
  }
}

/**
 * Adds the tokens of `bpe_ranks` to `table`, pausing (yielding) after every `perSlice` tokens or
 * `sliceMs` milliseconds, whichever comes first.
 */
function* fillRanks(
  bpeRanks: string,
  table: Map<string, number>,
  perSlice: number,
  sliceMs = Number.POSITIVE_INFINITY,
): Generator<void> {
  let inSlice = 0;
  let sliceStart = performance.now();
  for (const line of bpeRanks.split('\n')) {
    // `<name> <offset> <token>…`: tokens are found one by one, the line can be megabytes long.
    const nameEnd = line.indexOf(' ');
    if (nameEnd === -1) continue;
    let end = line.indexOf(' ', nameEnd + 1);
    if (end === -1) continue;
    let rank = Number.parseInt(line.slice(nameEnd + 1, end), 10);
    while (end < line.length) {
      const start = end + 1;
      end = line.indexOf(' ', start);
      if (end === -1) end = line.length;
      if (end === start) continue;
      table.set(Buffer.from(line.slice(start, end), 'base64').toString('latin1'), rank++);
      inSlice++;
      if (inSlice >= perSlice || (inSlice % 64 === 0 && performance.now() - sliceStart >= sliceMs)) {
        inSlice = 0;
        yield;
        sliceStart = performance.now();
      }
    }
  }
}

/** Number of tokens a piece not in the table merges into (`js-tiktoken`'s byte-pair merge). */
function mergedLength(piece: string, ranks: Map<string, number>): number {
  if (piece.length === 1) return 1;
  // Part i is piece.slice(bounds[i], bounds[i + 1]); the lowest-ranked adjacent pair merges first.
  const bounds = Array.from({ length: piece.length + 1 }, (_, index) => index);
  while (bounds.length > 2) {
    let lowest = -1;
    let at = -1;
    for (let index = 0; index < bounds.length - 2; index++) {
      const rank = ranks.get(piece.slice(bounds[index], bounds[index + 2]));
      if (rank !== undefined && (at === -1 || rank < lowest)) {
        lowest = rank;
        at = index;
      }
    }
    if (at === -1) break;
    bounds.splice(at + 1, 1);
  }
  let count = 0;
  for (let index = 0; index < bounds.length - 1; index++) {
    if (ranks.has(piece.slice(bounds[index], bounds[index + 1]))) count++;
  }
  return count;
}

const requireModule = createRequire(import.meta.url);

function requireRanks(encoding: string): TiktokenRanks {
  const ranks = requireModule(`js-tiktoken/ranks/${encoding}`) as TiktokenRanks & { default?: TiktokenRanks };
  return ranks.default ?? ranks;
}

/**
 * The table read from disk without blocking: the CommonJS rank file is `module.exports = {JSON};`,
 * so its JSON is parsed rather than the 1–2 MB module compiled. Another layout is required instead.
 */
async function readRanks(encoding: string): Promise<TiktokenRanks> {
  const file = requireModule.resolve(`js-tiktoken/ranks/${encoding}`);
  const source = await readFile(file, 'utf8');
  try {
    const ranks = JSON.parse(source.slice(source.indexOf('{'), source.lastIndexOf('}') + 1)) as TiktokenRanks;
    if (typeof ranks.pat_str === 'string' && typeof ranks.bpe_ranks === 'string') return ranks;
  } catch {
    // Not the layout this reads: fall through.
  }
  return requireRanks(encoding);
}
