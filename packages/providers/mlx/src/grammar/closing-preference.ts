/**
 * Near the end of `max_tokens`, a constrained answer prefers the tokens that bring its JSON to an
 * end, so that it is complete before the budget cuts it: a model (a random one surely) may
 * otherwise write digits or string characters for as long as the grammar lets it. Among the
 * tokens the grammar allows, the first class that has any wins, and the model's logits choose
 * within it: an end-of-sequence token; tokens that close an object or array (`}` `]`); tokens
 * with a quote; with `,` or `:`; any other; last, tokens that open an object or array.
 */

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;

/** The class of a token by its bytes (lower is preferred), or -1 for a special token. */
function closingClass(bytes: Uint8Array): number {
  if (bytes.length === 0) return -1;
  if (bytes.includes(OPEN_BRACE) || bytes.includes(OPEN_BRACKET)) return 5;
  if (bytes.includes(CLOSE_BRACE) || bytes.includes(CLOSE_BRACKET)) return 1;
  if (bytes.includes(QUOTE)) return 2;
  if (bytes.includes(COMMA) || bytes.includes(COLON)) return 3;
  return 4;
}

export class ClosingPreference {
  /** One bitmask per class, most preferred first. */
  readonly #classes: Int32Array[];

  constructor(bytes: Uint8Array[], words: number, stopTokenIds: number[]) {
    this.#classes = Array.from({ length: 6 }, () => new Int32Array(words));
    const add = (id: number, rank: number) => {
      this.#classes[rank]![id >>> 5]! |= 1 << (id & 31);
    };
    for (const id of stopTokenIds) if (id < words * 32) add(id, 0);
    for (let id = 0; id < bytes.length; id++) {
      const rank = closingClass(bytes[id]!);
      if (rank >= 0) add(id, rank);
    }
  }

  /** Keeps in `bitmask` only the allowed tokens of the most preferred class that has any. */
  restrict(bitmask: Int32Array): void {
    for (const mask of this.#classes) {
      let any = false;
      for (let word = 0; word < bitmask.length && !any; word++) any = (bitmask[word]! & mask[word]!) !== 0;
      if (!any) continue;
      for (let word = 0; word < bitmask.length; word++) bitmask[word]! &= mask[word]!;
      return;
    }
  }
}
