/** Characters per decoded piece: well under V8's longest string, so any number of strings packs. */
const PIECE_CHARACTERS = 1 << 24;

/**
 * Strings packed for a fast load: their UTF-8 bytes back to back, their lengths (UTF-16 units), and
 * for each piece of the bytes its string count and byte length. A load decodes each piece with one
 * `toString` and slices it, instead of parsing a string at a time.
 */
export interface PackedStrings {
  lengths: Uint32Array;
  /** Pairs: strings in the piece, bytes of the piece. */
  pieces: Uint32Array;
  data: Uint8Array;
}

export function packStrings(strings: readonly string[]): PackedStrings {
  const lengths = new Uint32Array(strings.length);
  const pieces: number[] = [];
  const buffers: Buffer[] = [];
  let text = '';
  let count = 0;
  const flush = () => {
    const bytes = Buffer.from(text, 'utf8');
    buffers.push(bytes);
    pieces.push(count, bytes.length);
    text = '';
    count = 0;
  };
  strings.forEach((value, index) => {
    // A lone surrogate becomes U+FFFD in UTF-8: one unit either way, so the lengths stay exact.
    lengths[index] = value.length;
    text += value;
    count++;
    if (text.length >= PIECE_CHARACTERS) flush();
  });
  if (count > 0) flush();
  return { lengths, pieces: Uint32Array.from(pieces), data: Buffer.concat(buffers) };
}

/** Calls `each(index, piece, start, end)` for every packed string: the string is `piece.slice(start, end)`. */
export function forEachPackedString(
  packed: PackedStrings,
  each: (index: number, piece: string, start: number, end: number) => void,
): void {
  const data = Buffer.from(packed.data.buffer, packed.data.byteOffset, packed.data.byteLength);
  let index = 0;
  let byteOffset = 0;
  for (let piece = 0; piece < packed.pieces.length; piece += 2) {
    const count = packed.pieces[piece]!;
    const byteLength = packed.pieces[piece + 1]!;
    const text = data.toString('utf8', byteOffset, byteOffset + byteLength);
    byteOffset += byteLength;
    let start = 0;
    for (const last = index + count; index < last; index++) {
      const end = start + packed.lengths[index]!;
      each(index, text, start, end);
      start = end;
    }
    if (start !== text.length) throw new Error('packed strings are corrupt');
  }
  if (index !== packed.lengths.length) throw new Error('packed strings are truncated');
}

/**
 * Strings as UTF-8 back to back, string `i` from byte `offsets[i]` to `offsets[i + 1]`: read back one
 * at a time (`ByteStrings`), with nothing decoded up front.
 */
export function packBytes(strings: readonly string[]): { offsets: Uint32Array; data: Buffer } {
  const offsets = new Uint32Array(strings.length + 1);
  const buffers: Buffer[] = [];
  let text = '';
  let bytes = 0;
  const flush = () => {
    buffers.push(Buffer.from(text, 'utf8'));
    text = '';
  };
  strings.forEach((value, index) => {
    bytes += Buffer.byteLength(value, 'utf8');
    if (bytes > 0xffffffff) throw new Error('strings of more than 4 GiB cannot be packed');
    offsets[index + 1] = bytes;
    text += value;
    if (text.length >= PIECE_CHARACTERS) flush();
  });
  flush();
  const data = Buffer.concat(buffers);
  // A lone surrogate is 3 bytes in UTF-8 either way (U+FFFD), so the offsets match the data.
  if (data.length !== bytes) throw new Error('packed strings do not match their offsets');
  return { offsets, data };
}

/**
 * The decoded pieces of packed strings, and the first string index of each (then the count of
 * strings): string `i` of piece `p` starts at the sum of the lengths of the strings before it there.
 */
export function decodePieces(packed: PackedStrings): { pieces: string[]; pieceStarts: Uint32Array } {
  const data = Buffer.from(packed.data.buffer, packed.data.byteOffset, packed.data.byteLength);
  const pieces: string[] = [];
  const pieceStarts = new Uint32Array(packed.pieces.length / 2 + 1);
  let index = 0;
  let byteOffset = 0;
  for (let piece = 0; piece < packed.pieces.length; piece += 2) {
    const byteLength = packed.pieces[piece + 1]!;
    pieces.push(data.toString('utf8', byteOffset, byteOffset + byteLength));
    byteOffset += byteLength;
    index += packed.pieces[piece]!;
    pieceStarts[piece / 2 + 1] = index;
  }
  if (index !== packed.lengths.length || byteOffset !== data.length)
    throw new Error('packed strings are truncated');
  return { pieces, pieceStarts };
}

export function unpackStrings(packed: PackedStrings): string[] {
  const strings = new Array<string>(packed.lengths.length);
  forEachPackedString(packed, (index, piece, start, end) => {
    strings[index] = piece.slice(start, end);
  });
  return strings;
}
