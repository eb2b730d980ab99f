/**
 * The safetensors file format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data.
 *
 * Read here without MLX, so that a model directory can be checked (and its memory estimated) before
 * anything is loaded into the worker, and written by the tests that build tiny models.
 */
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';

/** Data types found in MLX model files. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'U32' | 'I32' | 'U8' | 'I8' | 'F64' | 'I64' | 'BOOL';

export interface SafetensorsTensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range within the data section. */
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
  /** Offset of the data section within the file. */
  dataOffset: number;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  U8: 1,
  I8: 1,
  F64: 8,
  I64: 8,
  BOOL: 1,
};

/** Reads only the header of a safetensors file. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    if (readSync(fd, lengthBytes, 0, 8, 0) !== 8) throw new Error(`${path} is not a safetensors file.`);
    const length = Number(lengthBytes.readBigUInt64LE(0));
    if (length <= 0 || length > 100_000_000) throw new Error(`${path} is not a safetensors file.`);
    const headerBytes = Buffer.alloc(length);
    readSync(fd, headerBytes, 0, length, 8);
    const parsed = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    const { __metadata__: metadata, ...tensors } = parsed;
    return {
      tensors: tensors as Record<string, SafetensorsTensorInfo>,
      metadata: (metadata ?? {}) as Record<string, string>,
      dataOffset: 8 + length,
    };
  } finally {
    closeSync(fd);
  }
}

function bfloat16ToNumber(bits: number): number {
  const buffer = new DataView(new ArrayBuffer(4));
  buffer.setUint32(0, bits << 16, true);
  return buffer.getFloat32(0, true);
}

function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Reads one tensor as float64 values (integers as they are). Meant for checks and reference
 * computations on small models, not for loading: the worker loads through MLX.
 */
export function readSafetensorsTensor(path: string, header: SafetensorsHeader, name: string): Float64Array {
  const info = header.tensors[name];
  if (!info) throw new Error(`${path} has no tensor '${name}'.`);
  const [start, end] = info.data_offsets;
  const bytes = Buffer.alloc(end - start);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, header.dataOffset + start);
  } finally {
    closeSync(fd);
  }
  const count = bytes.length / DTYPE_BYTES[info.dtype];
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    switch (info.dtype) {
      case 'F32':
        out[i] = bytes.readFloatLE(i * 4);
        break;
      case 'F64':
        out[i] = bytes.readDoubleLE(i * 8);
        break;
      case 'F16':
        out[i] = float16ToNumber(bytes.readUInt16LE(i * 2));
        break;
      case 'BF16':
        out[i] = bfloat16ToNumber(bytes.readUInt16LE(i * 2));
        break;
      case 'U32':
        out[i] = bytes.readUInt32LE(i * 4);
        break;
      case 'I32':
        out[i] = bytes.readInt32LE(i * 4);
        break;
      default:
        throw new Error(`Reading ${info.dtype} tensors is not supported.`);
    }
  }
  return out;
}

/** A tensor to write: its dtype, shape and little-endian bytes. */
export interface TensorData {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;
}

/** Writes tensors (in name order, as the Python writer does) to a safetensors file. */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorData>,
  metadata: Record<string, string> = { format: 'mlx' },
): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const tensor = tensors[name]!;
    const length = tensor.data.byteLength;
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  // The data section starts 8-byte aligned, as the reference implementation pads it.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name]!;
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, position);
    position += data.byteLength;
  }
  writeFileSync(path, out);
}
