/**
 * A plain float64 JavaScript implementation of the llama-family forward pass, reading the same
 * files the worker loads (quantized layers dequantized here, from the packed words). Slow and
 * simple on purpose: the MLX model is checked against it.
 */
import type { CausalLmConfig } from '../loading/model-config.js';
import { type ModelManifest, readModelManifest } from '../loading/model-manifest.js';
import {
  readSafetensorsHeader,
  readSafetensorsTensor,
  type SafetensorsHeader,
} from '../loading/safetensors.js';
import { ropeInverseFrequencies } from '../model/rope.js';

interface Matrix {
  values: Float64Array;
  rows: number;
  columns: number;
  bias?: Float64Array;
}

class ReferenceWeights {
  readonly #headers = new Map<string, SafetensorsHeader>();

  constructor(readonly manifest: ModelManifest) {}

  tensor(name: string): Float64Array {
    const location = this.manifest.tensors[name];
    if (!location) throw new Error(`No tensor ${name}`);
    let header = this.#headers.get(location.file);
    if (!header) {
      header = readSafetensorsHeader(location.file);
      this.#headers.set(location.file, header);
    }
    return readSafetensorsTensor(location.file, header, location.fileName);
  }

  has(name: string): boolean {
    return this.manifest.tensors[name] !== undefined;
  }

  matrix(name: string): Matrix {
    const storage = this.manifest.layers[name];
    const location = this.manifest.tensors[`${name}.weight`]!;
    const bias = this.has(`${name}.bias`) ? this.tensor(`${name}.bias`) : undefined;
    if (!storage?.quantized) {
      const [rows, columns] = location.shape as [number, number];
      return { values: this.tensor(`${name}.weight`), rows, columns, ...(bias ? { bias } : {}) };
    }
    const { bits, groupSize } = storage;
    const packed = this.tensor(`${name}.weight`);
    const scales = this.tensor(`${name}.scales`);
    const biases = this.tensor(`${name}.biases`);
    const rows = location.shape[0]!;
    const columns = (location.shape[1]! * 32) / bits;
    const perWord = 32 / bits;
    const mask = 2 ** bits - 1;
    const values = new Float64Array(rows * columns);
    for (let index = 0; index < values.length; index++) {
      const word = packed[Math.floor(index / perWord)]!;
      const q = Math.floor(word / 2 ** (bits * (index % perWord))) & mask;
      const row = Math.floor(index / columns);
      const group = row * (columns / groupSize) + Math.floor((index % columns) / groupSize);
      values[index] = scales[group]! * q + biases[group]!;
    }
    return { values, rows, columns, ...(bias ? { bias } : {}) };
  }
}

function linear(x: Float64Array, m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let sum = m.bias ? m.bias[r]! : 0;
    const offset = r * m.columns;
    for (let c = 0; c < m.columns; c++) sum += m.values[offset + c]! * x[c]!;
    out[r] = sum;
  }
  return out;
}

function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  let meanSquare = 0;
  for (const value of x) meanSquare += value * value;
  meanSquare /= x.length;
  const scale = 1 / Math.sqrt(meanSquare + eps);
  return x.map((value, i) => value * scale * weight[i]!);
}

function rope(x: Float64Array, position: number, inverse: number[], positionScale: number): Float64Array {
  const half = x.length / 2;
  const out = new Float64Array(x.length);
  for (let i = 0; i < half; i++) {
    const angle = position * positionScale * inverse[i]!;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    out[i] = x[i]! * cos - x[i + half]! * sin;
    out[i + half] = x[i]! * sin + x[i + half]! * cos;
  }
  return out;
}

/** Logits `[position][vocab]` of every position of `tokens`, computed in float64. */
export function referenceLogits(path: string, tokens: number[]): Float64Array[] {
  const manifest = readModelManifest(path);
  const config = manifest.config as CausalLmConfig;
  const weights = new ReferenceWeights(manifest);
  const { hiddenSize, numHeads, numKvHeads, headDim, rmsNormEps: eps } = config;
  const embed = weights.matrix('model.embed_tokens');
  const head = weights.has('lm_head.weight') ? weights.matrix('lm_head') : embed;
  const inverse =
    config.ropeScaling?.type === 'llama3'
      ? ropeInverseFrequencies(config)
      : Array.from({ length: headDim / 2 }, (_, i) => 1 / config.ropeTheta ** ((2 * i) / headDim));
  const positionScale = config.ropeScaling?.type === 'linear' ? 1 / config.ropeScaling.factor : 1;
  let states = tokens.map((token) => embed.values.slice(token * hiddenSize, (token + 1) * hiddenSize));
  const group = numHeads / numKvHeads;
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const inputNorm = weights.tensor(`${p}.input_layernorm.weight`);
    const postNorm = weights.tensor(`${p}.post_attention_layernorm.weight`);
    const [q, k, v, o] = ['q', 'k', 'v', 'o'].map((name) =>
      weights.matrix(`${p}.self_attn.${name}_proj`),
    ) as [Matrix, Matrix, Matrix, Matrix];
    const qNorm = weights.has(`${p}.self_attn.q_norm.weight`)
      ? weights.tensor(`${p}.self_attn.q_norm.weight`)
      : undefined;
    const kNorm = weights.has(`${p}.self_attn.k_norm.weight`)
      ? weights.tensor(`${p}.self_attn.k_norm.weight`)
      : undefined;
    const [gate, up, down] = ['gate', 'up', 'down'].map((name) =>
      weights.matrix(`${p}.mlp.${name}_proj`),
    ) as [Matrix, Matrix, Matrix];
    const headsOf = (
      vector: Float64Array,
      count: number,
      norm: Float64Array | undefined,
      position: number | undefined,
    ) =>
      Array.from({ length: count }, (_, h) => {
        let part: Float64Array = vector.slice(h * headDim, (h + 1) * headDim);
        if (norm) part = rmsNorm(part, norm, eps);
        return position === undefined ? part : rope(part, position, inverse, positionScale);
      });
    const normed = states.map((state) => rmsNorm(state, inputNorm, eps));
    const queries = normed.map((x, position) => headsOf(linear(x, q), numHeads, qNorm, position));
    const keys = normed.map((x, position) => headsOf(linear(x, k), numKvHeads, kNorm, position));
    const values = normed.map((x) => headsOf(linear(x, v), numKvHeads, undefined, undefined));
    states = states.map((state, position) => {
      const attended = new Float64Array(numHeads * headDim);
      for (let h = 0; h < numHeads; h++) {
        const kv = Math.floor(h / group);
        const scores = Array.from({ length: position + 1 }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += queries[position]![h]![d]! * keys[j]![kv]![d]!;
          return dot / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const exps = scores.map((score) => Math.exp(score - max));
        const total = exps.reduce((sum, value) => sum + value, 0);
        for (let j = 0; j <= position; j++) {
          for (let d = 0; d < headDim; d++)
            attended[h * headDim + d]! += (exps[j]! / total) * values[j]![kv]![d]!;
        }
      }
      const h1 = linear(attended, o).map((value, i) => value + state[i]!);
      const x = rmsNorm(h1, postNorm, eps);
      const g = linear(x, gate);
      const u = linear(x, up);
      const activated = g.map((value, i) => (value / (1 + Math.exp(-value))) * u[i]!);
      return linear(activated, down).map((value, i) => value + h1[i]!);
    });
  }
  const finalNorm = weights.tensor('model.norm.weight');
  return states.map((state) => linear(rmsNorm(state, finalNorm, eps), head));
}
