/** Tensors of a model being written, dense or quantized, into one or several safetensors files. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TensorData, writeSafetensors } from '../loading/safetensors.js';
import { encodeFloats, type FloatDtype, quantizeMatrix } from './tensor-encoding.js';

export class TensorWriter {
  readonly tensors: Record<string, TensorData> = {};

  constructor(readonly dtype: FloatDtype) {}

  floats(name: string, shape: number[], values: ArrayLike<number>): void {
    this.tensors[name] = { dtype: this.dtype, shape, data: encodeFloats(this.dtype, values) };
  }

  /** A matrix `[out, in]`, quantized when asked (writing `.weight`, `.scales`, `.biases`). */
  matrix(
    name: string,
    shape: [number, number],
    values: ArrayLike<number>,
    quantization?: { bits: number; groupSize: number; dequantized?: boolean },
  ): void {
    if (!quantization) {
      this.floats(`${name}.weight`, shape, values);
      return;
    }
    const [rows, columns] = shape;
    const q = quantizeMatrix(values, rows, columns, quantization.groupSize, quantization.bits, this.dtype);
    if (quantization.dequantized) {
      this.tensors[`${name}.weight`] = { dtype: 'F32', shape, data: q.dequantized };
      return;
    }
    const groups = columns / quantization.groupSize;
    this.tensors[`${name}.weight`] = {
      dtype: 'U32',
      shape: [rows, (columns * quantization.bits) / 32],
      data: q.packed,
    };
    this.floats(`${name}.scales`, [rows, groups], q.scales);
    this.floats(`${name}.biases`, [rows, groups], q.biases);
  }

  write(path: string, shards: number): void {
    const names = Object.keys(this.tensors).sort();
    if (shards <= 1) {
      writeSafetensors(join(path, 'model.safetensors'), this.tensors);
      return;
    }
    const weightMap: Record<string, string> = {};
    const perShard = Math.ceil(names.length / shards);
    let totalSize = 0;
    for (let shard = 0; shard < shards; shard++) {
      const file = `model-${String(shard + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part: Record<string, TensorData> = {};
      for (const name of names.slice(shard * perShard, (shard + 1) * perShard)) {
        part[name] = this.tensors[name]!;
        weightMap[name] = file;
        totalSize += this.tensors[name]!.data.byteLength;
      }
      writeSafetensors(join(path, file), part);
    }
    writeFileSync(
      join(path, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
    );
  }
}
