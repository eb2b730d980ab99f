/**
 * A column of strings read from a file without making a string per entry: `at(index)` makes one when
 * asked for, and `hashAt`/`equalsAt` let a hash table of them be built and probed in place.
 */
export interface StringColumn {
  readonly length: number;
  at(index: number): string;
  /** The same hash {@link StringColumn.hashOf} gives the entry's string. */
  hashAt(index: number): number;
  hashOf(value: string): number;
  equalsAt(index: number, value: string): boolean;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function isAscii(value: string): boolean {
  for (let index = 0; index < value.length; index++) if (value.charCodeAt(index) > 0x7f) return false;
  return true;
}

/**
 * UTF-8 strings back to back in `data`, string `i` from byte `offsets[i]` to `offsets[i + 1]` (the
 * layout of a version 4 store snapshot). Hashes are FNV-1a of the UTF-8 bytes.
 */
export class ByteStrings implements StringColumn {
  readonly #offsets: Uint32Array;
  readonly #data: Buffer;

  constructor(offsets: Uint32Array, data: Uint8Array) {
    if (offsets.length === 0 || offsets[offsets.length - 1] !== data.byteLength) {
      throw new Error('string column is corrupt');
    }
    for (let index = 1; index < offsets.length; index++) {
      if (offsets[index]! < offsets[index - 1]!) throw new Error('string column is corrupt');
    }
    this.#offsets = offsets;
    this.#data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  get length(): number {
    return this.#offsets.length - 1;
  }

  at(index: number): string {
    const start = this.#offsets[index]!;
    const end = this.#offsets[index + 1]!;
    return start === end ? '' : this.#data.toString('utf8', start, end);
  }

  hashAt(index: number): number {
    const data = this.#data;
    let hash = FNV_OFFSET;
    for (let byte = this.#offsets[index]!, end = this.#offsets[index + 1]!; byte < end; byte++) {
      hash = Math.imul(hash ^ data[byte]!, FNV_PRIME);
    }
    return hash >>> 0;
  }

  hashOf(value: string): number {
    let hash = FNV_OFFSET;
    if (isAscii(value)) {
      for (let index = 0; index < value.length; index++)
        hash = Math.imul(hash ^ value.charCodeAt(index), FNV_PRIME);
    } else {
      for (const byte of Buffer.from(value, 'utf8')) hash = Math.imul(hash ^ byte, FNV_PRIME);
    }
    return hash >>> 0;
  }

  equalsAt(index: number, value: string): boolean {
    const start = this.#offsets[index]!;
    const end = this.#offsets[index + 1]!;
    if (!isAscii(value)) return this.at(index) === value;
    if (end - start !== value.length) return false;
    const data = this.#data;
    for (let at = 0; at < value.length; at++) if (data[start + at] !== value.charCodeAt(at)) return false;
    return true;
  }
}

interface PieceLayout {
  pieces: readonly string[];
  pieceOf: Uint32Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
}

/**
 * Every `stride`-th string, from `phase`, of strings decoded in pieces (a version 3 store snapshot
 * interleaves each chunk's id, text and metadata): string `i` is `pieces[p].slice(offset, offset +
 * length)`. Hashes are FNV-1a of the UTF-16 units.
 */
export class PieceStrings implements StringColumn {
  readonly length: number;
  readonly #pieces: readonly string[];
  readonly #pieceOf: Uint32Array;
  readonly #offsets: Uint32Array;
  readonly #lengths: Uint32Array;
  readonly #stride: number;
  readonly #phase: number;

  private constructor(layout: PieceLayout, stride: number, phase: number) {
    this.length = layout.lengths.length / stride;
    this.#pieces = layout.pieces;
    this.#pieceOf = layout.pieceOf;
    this.#offsets = layout.offsets;
    this.#lengths = layout.lengths;
    this.#stride = stride;
    this.#phase = phase;
  }

  /**
   * `stride` columns over the same decoded pieces (column `p` holds strings `p`, `p + stride`, …).
   * `pieceStarts`: first string of each piece, then the string count; `lengths`: of every string.
   */
  static columns(
    pieces: readonly string[],
    pieceStarts: Uint32Array,
    lengths: Uint32Array,
    stride = 1,
  ): PieceStrings[] {
    const offsets = new Uint32Array(lengths.length);
    const pieceOf = new Uint32Array(lengths.length);
    for (let piece = 0; piece < pieces.length; piece++) {
      let offset = 0;
      for (let string = pieceStarts[piece]!; string < pieceStarts[piece + 1]!; string++) {
        offsets[string] = offset;
        pieceOf[string] = piece;
        offset += lengths[string]!;
      }
      if (offset !== pieces[piece]!.length) throw new Error('packed strings are corrupt');
    }
    if (lengths.length % stride !== 0) throw new Error('packed strings are corrupt');
    const layout = { pieces, pieceOf, offsets, lengths };
    return Array.from({ length: stride }, (_, phase) => new PieceStrings(layout, stride, phase));
  }

  at(index: number): string {
    const string = index * this.#stride + this.#phase;
    const length = this.#lengths[string]!;
    if (length === 0) return '';
    const start = this.#offsets[string]!;
    return this.#pieces[this.#pieceOf[string]!]!.slice(start, start + length);
  }

  hashAt(index: number): number {
    const string = index * this.#stride + this.#phase;
    const text = this.#pieces[this.#pieceOf[string]!]!;
    let hash = FNV_OFFSET;
    for (let at = this.#offsets[string]!, end = at + this.#lengths[string]!; at < end; at++) {
      hash = Math.imul(hash ^ text.charCodeAt(at), FNV_PRIME);
    }
    return hash >>> 0;
  }

  hashOf(value: string): number {
    let hash = FNV_OFFSET;
    for (let index = 0; index < value.length; index++)
      hash = Math.imul(hash ^ value.charCodeAt(index), FNV_PRIME);
    return hash >>> 0;
  }

  equalsAt(index: number, value: string): boolean {
    const string = index * this.#stride + this.#phase;
    if (this.#lengths[string] !== value.length) return false;
    return this.#pieces[this.#pieceOf[string]!]!.startsWith(value, this.#offsets[string]);
  }
}
