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

export function unpackStrings(packed: PackedStrings): string[] {
  const strings = new Array<string>(packed.lengths.length);
  forEachPackedString(packed, (index, piece, start, end) => {
    strings[index] = piece.slice(start, end);
  });
  return strings;
}
