/**
 * A typed window on node-mlx (`@frost-beta/mlx`), limited to what this package uses.
 *
 * node-mlx's own declarations point at raw `.ts` sources that fail strict type checking, so the
 * module is loaded with `require` at run time and typed here instead. Only the worker process (and
 * tests) load it: a native abort in MLX must never take the orchestrator down.
 */
import { createRequire } from 'node:module';
import { nativeLibraryError } from './native-library-error.js';

/** An MLX data type (`mx.float32`, …). */
export interface MxDtype {
  readonly size: number;
  toString(): string;
}

/** A slice for {@link MxArray.index}. */
export interface MxSlice {
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

export type MxIndex = null | MxSlice | '...' | MxArray | number;

/** A lazily evaluated MLX array. */
export interface MxArray {
  readonly shape: number[];
  readonly dtype: MxDtype;
  readonly size: number;
  readonly ndim: number;
  readonly nbytes: number;
  readonly T: MxArray;
  item(): number | boolean;
  tolist(): unknown;
  astype(dtype: MxDtype): MxArray;
  reshape(shape: number[]): MxArray;
  transpose(...axes: number[]): MxArray;
  index(...index: MxIndex[]): MxArray;
  indexPut_(index: MxIndex | MxIndex[], value: MxArray | number): MxArray;
  sum(axis?: number | number[], keepdims?: boolean): MxArray;
  max(axis?: number | number[], keepdims?: boolean): MxArray;
}

type Operand = MxArray | number;

/** The subset of `mx` (node-mlx's `core`) this package calls. */
export interface Mx {
  readonly float32: MxDtype;
  readonly float16: MxDtype;
  readonly bfloat16: MxDtype;
  readonly int32: MxDtype;
  readonly uint32: MxDtype;
  array(value: unknown, dtype?: MxDtype): MxArray;
  Slice(start?: number | null, stop?: number | null, step?: number | null): MxSlice;
  load(path: string): Record<string, MxArray>;
  eval(...arrays: unknown[]): void;
  zeros(shape: number[], dtype?: MxDtype): MxArray;
  ones(shape: number[], dtype?: MxDtype): MxArray;
  full(shape: number[], value: Operand, dtype?: MxDtype): MxArray;
  arange(start: number, stop?: number, step?: number, dtype?: MxDtype): MxArray;
  add(a: Operand, b: Operand): MxArray;
  subtract(a: Operand, b: Operand): MxArray;
  multiply(a: Operand, b: Operand): MxArray;
  divide(a: Operand, b: Operand): MxArray;
  maximum(a: Operand, b: Operand): MxArray;
  matmul(a: MxArray, b: MxArray): MxArray;
  sqrt(a: MxArray): MxArray;
  rsqrt(a: MxArray): MxArray;
  square(a: MxArray): MxArray;
  exp(a: MxArray): MxArray;
  erf(a: MxArray): MxArray;
  tanh(a: MxArray): MxArray;
  power(a: MxArray, exponent: Operand): MxArray;
  sigmoid(a: MxArray): MxArray;
  cos(a: MxArray): MxArray;
  sin(a: MxArray): MxArray;
  negative(a: MxArray): MxArray;
  softmax(a: MxArray, axis?: number | number[], precise?: boolean): MxArray;
  argmax(a: MxArray, axis?: number, keepdims?: boolean): MxArray;
  sum(a: MxArray, axis?: number | number[], keepdims?: boolean): MxArray;
  mean(a: MxArray, axis?: number | number[], keepdims?: boolean): MxArray;
  concatenate(arrays: MxArray[], axis?: number): MxArray;
  stack(arrays: MxArray[], axis?: number): MxArray;
  split(a: MxArray, indicesOrSections: number | number[], axis?: number): MxArray[];
  reshape(a: MxArray, shape: number[]): MxArray;
  transpose(a: MxArray, axes: number[]): MxArray;
  expandDims(a: MxArray, axes: number | number[]): MxArray;
  take(a: MxArray, indices: MxArray, axis?: number): MxArray;
  where(condition: MxArray, x: Operand, y: Operand): MxArray;
  greaterEqual(a: Operand, b: Operand): MxArray;
  /** Note: node-mlx does not broadcast its shift operands; give both the same shape. */
  rightShift(a: MxArray, b: MxArray): MxArray;
  bitwiseAnd(a: MxArray, b: MxArray): MxArray;
  quantize(weight: MxArray, groupSize: number, bits: number): [MxArray, MxArray, MxArray];
  dequantize(weight: MxArray, scales: MxArray, biases: MxArray, groupSize: number, bits: number): MxArray;
  /** Note: node-mlx takes the activations first, unlike its declaration file says. */
  quantizedMatmul(
    x: MxArray,
    weight: MxArray,
    scales: MxArray,
    biases: MxArray,
    transpose: boolean,
    groupSize: number,
    bits: number,
  ): MxArray;
  readonly fast: {
    rmsNorm(x: MxArray, weight: MxArray, eps: number): MxArray;
    layerNorm(x: MxArray, weight: MxArray | null, bias: MxArray | null, eps: number): MxArray;
    rope(
      x: MxArray,
      dims: number,
      traditional: boolean,
      base: number,
      scale: number,
      offset: number,
    ): MxArray;
    scaledDotProductAttention(
      queries: MxArray,
      keys: MxArray,
      values: MxArray,
      scale: number,
      mask?: MxArray,
    ): MxArray;
  };
  readonly random: {
    seed(seed: number): void;
    normal(shape: number[], dtype?: MxDtype, loc?: number, scale?: number): MxArray;
    uniform(low: number, high: number, shape: number[], dtype?: MxDtype): MxArray;
  };
}

let loaded: Mx | undefined;

/**
 * node-mlx's `core` module, loaded on first use. A missing shared library (Debian's LAPACK/BLAS)
 * throws an error that names the package to install, never the loader's bare message.
 */
export function mlx(): Mx {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    try {
      loaded = (require('@frost-beta/mlx') as { core: unknown }).core as Mx;
    } catch (error) {
      throw nativeLibraryError(error) ?? error;
    }
  }
  return loaded;
}
