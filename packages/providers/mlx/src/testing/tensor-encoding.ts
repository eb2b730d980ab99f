/**
 * Float encodings and MLX's affine quantization, in JavaScript, for writing model files the way
 * mlx-lm does.
 */

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE half-precision bits of `value` (round to nearest even). */
export function toFloat16Bits(value: number): number {
  scratch.setFloat32(0, value, true);
  const bits = scratch.getUint32(0, true);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    let half = mantissa >> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (exponent << 10) | (mantissa >> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++;
  return half;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** bfloat16 bits of `value` (round to nearest even). */
export function toBfloat16Bits(value: number): number {
  scratch.setFloat32(0, value, true);
  const bits = scratch.getUint32(0, true);
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBfloat16Bits(bits: number): number {
  scratch.setUint32(0, bits << 16, true);
  return scratch.getFloat32(0, true);
}

export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** The value a float32 becomes once stored as `dtype`. */
export function roundTo(dtype: FloatDtype, value: number): number {
  if (dtype === 'F16') return fromFloat16Bits(toFloat16Bits(value));
  if (dtype === 'BF16') return fromBfloat16Bits(toBfloat16Bits(value));
  return Math.fround(value);
}

/** Encodes values (already rounded or not) as `dtype`. */
export function encodeFloats(dtype: FloatDtype, values: ArrayLike<number>): Float32Array | Uint16Array {
  if (dtype === 'F32') return Float32Array.from(values);
  const out = new Uint16Array(values.length);
  const encode = dtype === 'F16' ? toFloat16Bits : toBfloat16Bits;
  for (let i = 0; i < values.length; i++) out[i] = encode(values[i]!);
  return out;
}

export interface QuantizedMatrix {
  /** `[out, in * bits / 32]` packed words, lowest bits first. */
  packed: Uint32Array;
  /** `[out, in / groupSize]`, rounded to the storage dtype. */
  scales: Float64Array;
  biases: Float64Array;
  /** What the layer computes with: `scale * q + bias`, in float32. */
  dequantized: Float32Array;
}

/** Affine quantization of a row-major `[rows, columns]` matrix, as `mx.quantize` stores it. */
export function quantizeMatrix(
  values: ArrayLike<number>,
  rows: number,
  columns: number,
  groupSize: number,
  bits: number,
  scaleDtype: FloatDtype,
): QuantizedMatrix {
  const levels = 2 ** bits - 1;
  const perWord = 32 / bits;
  const groups = columns / groupSize;
  const packed = new Uint32Array((rows * columns) / perWord);
  const scales = new Float64Array(rows * groups);
  const biases = new Float64Array(rows * groups);
  const dequantized = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    for (let group = 0; group < groups; group++) {
      const start = row * columns + group * groupSize;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < groupSize; i++) {
        min = Math.min(min, values[start + i]!);
        max = Math.max(max, values[start + i]!);
      }
      const scale = roundTo(scaleDtype, Math.max((max - min) / levels, 1e-6));
      const bias = roundTo(scaleDtype, min);
      scales[row * groups + group] = scale;
      biases[row * groups + group] = bias;
      for (let i = 0; i < groupSize; i++) {
        const q = Math.min(levels, Math.max(0, Math.round((values[start + i]! - bias) / scale)));
        const index = start + i;
        packed[Math.floor(index / perWord)]! |= q << (bits * (index % perWord));
        dequantized[index] = Math.fround(Math.fround(scale * q) + bias);
      }
    }
  }
  return { packed, scales, biases, dequantized };
}
