import { endianness } from 'node:os';

/** A section of a binary file: raw bytes, or a typed array written as its bytes. */
export type Section = Uint8Array | Uint32Array | Float64Array;

const ALIGN = 8;
const padding = (length: number) => (ALIGN - (length % ALIGN)) % ALIGN;

/**
 * Encodes `magic` (4 ASCII characters), a JSON header and named sections, each aligned to 8 bytes, as
 * pieces to write one after the other: `magic, header length (u32 LE), header JSON, padding, sections`.
 * The header records each section's byte length, so a reader takes views on one buffer instead of
 * parsing. Little-endian only, like every platform Node runs on here.
 */
export function encodeBinaryFile(
  magic: string,
  header: Record<string, unknown>,
  sections: Record<string, Section>,
): Uint8Array[] {
  if (endianness() !== 'LE') throw new Error('binary collection files are little-endian only');
  const names = Object.keys(sections);
  const lengths = names.map((name) => sections[name]!.byteLength);
  const json = Buffer.from(
    JSON.stringify({
      ...header,
      sections: Object.fromEntries(names.map((name, index) => [name, lengths[index]])),
    }),
  );
  const prefix = Buffer.alloc(8);
  prefix.write(magic, 0, 4, 'latin1');
  prefix.writeUInt32LE(json.length, 4);
  const pieces: Uint8Array[] = [prefix, json, new Uint8Array(padding(8 + json.length))];
  names.forEach((name, index) => {
    const section = sections[name]!;
    pieces.push(new Uint8Array(section.buffer, section.byteOffset, section.byteLength));
    pieces.push(new Uint8Array(padding(lengths[index]!)));
  });
  return pieces.filter((piece) => piece.byteLength > 0);
}

/** A decoded {@link encodeBinaryFile}: its header and views on its sections. */
export interface BinaryFile<THeader> {
  header: THeader;
  bytes(name: string): Uint8Array;
  /** A section as u32 values (a view on the file's buffer, so writes to it change that buffer). */
  uint32(name: string): Uint32Array;
}

/** Whether `bytes` start with `magic`. */
export function hasMagic(bytes: Uint8Array, magic: string): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') === magic;
}

export function decodeBinaryFile<THeader>(magic: string, file: Uint8Array): BinaryFile<THeader> {
  if (endianness() !== 'LE') throw new Error('binary collection files are little-endian only');
  if (!hasMagic(file, magic)) throw new Error(`not a '${magic}' file`);
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const jsonLength = bytes.readUInt32LE(4);
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + jsonLength)) as THeader & {
    sections: Record<string, number>;
  };
  const at = new Map<string, [number, number]>();
  let offset = 8 + jsonLength + padding(8 + jsonLength);
  for (const [name, length] of Object.entries(header.sections)) {
    at.set(name, [offset, length]);
    offset += length + padding(length);
  }
  if (offset > bytes.length) throw new Error(`'${magic}' file is truncated`);
  const section = (name: string): [number, number] => {
    const place = at.get(name);
    if (!place) throw new Error(`'${magic}' file has no section '${name}'`);
    return place;
  };
  return {
    header,
    bytes: (name) => {
      const [start, length] = section(name);
      return bytes.subarray(start, start + length);
    },
    uint32: (name) => {
      const [start, length] = section(name);
      const absolute = bytes.byteOffset + start;
      // A Buffer from the shared pool may start unaligned: copy then.
      if (absolute % 4 === 0) return new Uint32Array(bytes.buffer, absolute, length / 4);
      return new Uint32Array(bytes.buffer.slice(absolute, absolute + length));
    },
  };
}
