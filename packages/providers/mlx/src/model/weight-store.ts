/**
 * The loaded tensors of one model, as MLX arrays: 16-bit floats widened to float32 (16-bit
 * compute aborts the process on CPU), quantized layers kept packed.
 */
import type { LayerStorage, ModelManifest } from '../loading/model-manifest.js';
import { type Mx, type MxArray, mlx } from '../mlx/mlx-binding.js';

/** A linear (or embedding) layer, dense or quantized. */
export interface LinearLayer {
  weight: MxArray;
  bias?: MxArray;
  /** Quantized layers only. */
  quantized?: { scales: MxArray; biases: MxArray; groupSize: number; bits: number };
}

export class WeightStore {
  readonly #arrays = new Map<string, MxArray>();
  readonly #layers: Record<string, LayerStorage>;
  /** Bytes of the arrays kept. */
  readonly bytes: number;

  private constructor(arrays: Map<string, MxArray>, layers: Record<string, LayerStorage>) {
    this.#arrays = arrays;
    this.#layers = layers;
    let bytes = 0;
    for (const array of arrays.values()) bytes += array.nbytes;
    this.bytes = bytes;
  }

  /** Loads the manifest's tensors, file by file, and evaluates them. */
  static load(manifest: ModelManifest): WeightStore {
    const mx = mlx();
    const byFile = new Map<string, [string, string][]>();
    for (const [name, location] of Object.entries(manifest.tensors)) {
      const list = byFile.get(location.file) ?? [];
      list.push([name, location.fileName]);
      byFile.set(location.file, list);
    }
    const arrays = new Map<string, MxArray>();
    for (const [file, names] of byFile) {
      const loaded = mx.load(file);
      for (const [name, fileName] of names) {
        const array = loaded[fileName];
        if (!array) continue;
        const dtype = array.dtype.toString();
        arrays.set(name, dtype === 'float16' || dtype === 'bfloat16' ? array.astype(mx.float32) : array);
      }
      // Evaluate per file, so the 16-bit originals of one shard are freed before the next is read.
      mx.eval(...arrays.values());
    }
    return new WeightStore(arrays, manifest.layers);
  }

  /** A vector or other plain tensor. */
  get(name: string): MxArray {
    const array = this.#arrays.get(name);
    if (!array) throw new Error(`Tensor '${name}' was not loaded.`);
    return array;
  }

  optional(name: string): MxArray | undefined {
    return this.#arrays.get(name);
  }

  has(name: string): boolean {
    return this.#arrays.has(`${name}.weight`);
  }

  /** A linear or embedding layer by name (without `.weight`). */
  linear(name: string): LinearLayer {
    const weight = this.get(`${name}.weight`);
    const bias = this.#arrays.get(`${name}.bias`);
    const storage = this.#layers[name];
    const layer: LinearLayer = { weight, ...(bias ? { bias } : {}) };
    if (storage?.quantized) {
      layer.quantized = {
        scales: this.get(`${name}.scales`),
        biases: this.get(`${name}.biases`),
        groupSize: storage.groupSize,
        bits: storage.bits,
      };
    }
    return layer;
  }
}

/**
 * Rows from which a quantized layer is dequantized and multiplied through BLAS instead of the
 * quantized kernel: on CPU that kernel is naive (0.45 ms a row for 512×1408 here, 20 times slower
 * than dequantize + matmul for a 256-token prefill chunk), while a single decode row is faster in it.
 */
const DEQUANTIZE_FROM_ROWS = 8;

/** `x @ weight.T + bias`, quantized layers through the quantized kernel or dequantized (prefill). */
export function applyLinear(mx: Mx, x: MxArray, layer: LinearLayer): MxArray {
  const { quantized } = layer;
  let y: MxArray;
  if (!quantized) y = mx.matmul(x, layer.weight.T);
  else {
    const { scales, biases, groupSize, bits } = quantized;
    const rows = x.size / x.shape[x.shape.length - 1]!;
    y =
      rows >= DEQUANTIZE_FROM_ROWS
        ? mx.matmul(x, mx.dequantize(layer.weight, scales, biases, groupSize, bits).T)
        : mx.quantizedMatmul(x, layer.weight, scales, biases, true, groupSize, bits);
  }
  return layer.bias ? mx.add(y, layer.bias) : y;
}

/** Rows `ids` of an embedding table, dequantized when stored quantized. */
export function embeddingRows(mx: Mx, layer: LinearLayer, ids: MxArray): MxArray {
  const rows = mx.take(layer.weight, ids, 0);
  const { quantized } = layer;
  if (!quantized) return rows;
  return mx.dequantize(
    rows,
    mx.take(quantized.scales, ids, 0),
    mx.take(quantized.biases, ids, 0),
    quantized.groupSize,
    quantized.bits,
  );
}
