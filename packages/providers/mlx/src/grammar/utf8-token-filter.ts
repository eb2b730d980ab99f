/**
 * What xgrammar's JSON grammars leave to the caller: its string rule lets raw control characters
 * (U+0000–U+001F, which JSON forbids unescaped) and byte sequences that are not UTF-8 through. This
 * filter tracks the UTF-8 state of the output and allows only tokens that keep it well formed and
 * hold no control byte. Its bitmask per UTF-8 state is computed once per vocabulary, so a step
 * costs one AND per 32 tokens.
 */
import { bytesToUnicode } from '../tokenizer/byte-level-alphabet.js';
import type { TokenizerVocabulary } from '../tokenizer/text-tokenizer.js';

/**
 * A UTF-8 decoding state: 0 between characters; otherwise the continuation bytes still due and the
 * range the next one must fall in (narrower after E0, ED, F0, F4: no overlong forms, no surrogates).
 */
interface Utf8State {
  due: number;
  low: number;
  high: number;
}

const BOUNDARY = 0;

/** The bytes each token stands for, by id. */
export function tokenBytes(vocabulary: TokenizerVocabulary): Uint8Array[] {
  const encoder = new TextEncoder();
  const byteOf = new Map<string, number>(bytesToUnicode().map((char, byte) => [char, byte]));
  return vocabulary.tokens.map((token) => {
    if (token === '') return new Uint8Array(0);
    if (vocabulary.type === 'byte_level') {
      const bytes: number[] = [];
      for (const char of token) {
        const byte = byteOf.get(char);
        // Not a byte-level token (an added token written as text): its UTF-8 bytes.
        if (byte === undefined) return encoder.encode(token);
        bytes.push(byte);
      }
      return Uint8Array.from(bytes);
    }
    if (vocabulary.type === 'byte_fallback') {
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
      if (byte) return Uint8Array.of(Number.parseInt(byte[1]!, 16));
      return encoder.encode(token.replaceAll('\u2581', ' '));
    }
    return encoder.encode(token);
  });
}

export class Utf8TokenFilter {
  readonly #bytes: Uint8Array[];
  readonly #words: number;
  /** Interned states: index 0 is {@link BOUNDARY}. */
  readonly #states: Utf8State[] = [{ due: 0, low: 0, high: 0 }];
  readonly #tables = new Map<number, { mask: Int32Array; next: Int32Array }>();

  constructor(bytes: Uint8Array[], logitsSize: number) {
    this.#bytes = bytes;
    this.#words = Math.ceil(Math.max(logitsSize, bytes.length) / 32);
  }

  /** The state at the start of an answer. */
  get start(): number {
    return BOUNDARY;
  }

  /** Clears in `bitmask` the tokens that cannot follow `state`. */
  restrict(bitmask: Int32Array, state: number): void {
    const { mask } = this.#table(state);
    for (let word = 0; word < bitmask.length; word++) bitmask[word]! &= mask[word]!;
  }

  /** The state after `token`, which {@link restrict} allowed. */
  next(state: number, token: number): number {
    return this.#table(state).next[token]!;
  }

  #table(state: number): { mask: Int32Array; next: Int32Array } {
    let table = this.#tables.get(state);
    if (table) return table;
    table = { mask: new Int32Array(this.#words), next: new Int32Array(this.#bytes.length).fill(-1) };
    for (let id = 0; id < this.#bytes.length; id++) {
      const bytes = this.#bytes[id]!;
      // Special tokens (no bytes) only where a character is complete: the grammar decides the rest.
      const after = bytes.length === 0 ? (state === BOUNDARY ? state : -1) : this.#walk(state, bytes);
      if (after < 0) continue;
      table.mask[id >>> 5]! |= 1 << (id & 31);
      table.next[id] = after;
    }
    this.#tables.set(state, table);
    return table;
  }

  /** The state after `bytes` from `state`, or -1 when they break UTF-8 or hold a control byte. */
  #walk(state: number, bytes: Uint8Array): number {
    let { due, low, high } = this.#states[state]!;
    for (const byte of bytes) {
      if (due > 0) {
        if (byte < low || byte > high) return -1;
        due--;
        low = 0x80;
        high = 0xbf;
        continue;
      }
      if (byte < 0x20) return -1;
      if (byte < 0x80) continue;
      if (byte >= 0xc2 && byte <= 0xdf) [due, low, high] = [1, 0x80, 0xbf];
      else if (byte === 0xe0) [due, low, high] = [2, 0xa0, 0xbf];
      else if (byte === 0xed) [due, low, high] = [2, 0x80, 0x9f];
      else if (byte >= 0xe1 && byte <= 0xef) [due, low, high] = [2, 0x80, 0xbf];
      else if (byte === 0xf0) [due, low, high] = [3, 0x90, 0xbf];
      else if (byte === 0xf4) [due, low, high] = [3, 0x80, 0x8f];
      else if (byte >= 0xf1 && byte <= 0xf3) [due, low, high] = [3, 0x80, 0xbf];
      else return -1;
    }
    if (due === 0) return BOUNDARY;
    let index = this.#states.findIndex(
      (known) => known.due === due && known.low === low && known.high === high,
    );
    if (index < 0) index = this.#states.push({ due, low, high }) - 1;
    return index;
  }
}
