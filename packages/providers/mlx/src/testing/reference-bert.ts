/**
 * A plain float64 JavaScript BERT encoder with mean/CLS pooling, reading the model files directly:
 * the reference the MLX encoder is checked against.
 */
import type { EncoderConfig } from '../loading/model-config.js';
import { readModelManifest } from '../loading/model-manifest.js';
import { readSafetensorsHeader, readSafetensorsTensor } from '../loading/safetensors.js';

export function referenceEmbedding(path: string, ids: number[]): Float64Array {
  const manifest = readModelManifest(path);
  const config = manifest.config as EncoderConfig;
  const tensor = (name: string) => {
    const location = manifest.tensors[name]!;
    return readSafetensorsTensor(location.file, readSafetensorsHeader(location.file), location.fileName);
  };
  const h = config.hiddenSize;
  const heads = config.numHeads;
  const d = h / heads;
  const linear = (x: Float64Array, name: string) => {
    const w = tensor(`${name}.weight`);
    const b = tensor(`${name}.bias`);
    const rows = b.length;
    const columns = x.length;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = b[r]!;
      for (let c = 0; c < columns; c++) sum += w[r * columns + c]! * x[c]!;
      out[r] = sum;
    }
    return out;
  };
  const layerNorm = (x: Float64Array, name: string) => {
    const w = tensor(`${name}.weight`);
    const b = tensor(`${name}.bias`);
    const mean = x.reduce((sum, value) => sum + value, 0) / x.length;
    const variance = x.reduce((sum, value) => sum + (value - mean) ** 2, 0) / x.length;
    return x.map((value, i) => ((value - mean) / Math.sqrt(variance + config.layerNormEps)) * w[i]! + b[i]!);
  };
  const erf = (x: number) => {
    // Abramowitz–Stegun 7.1.26 is too coarse for 1e-4; integrate the series instead.
    let sum = x;
    let term = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const words = tensor('embeddings.word_embeddings.weight');
  const positions = tensor('embeddings.position_embeddings.weight');
  const types = tensor('embeddings.token_type_embeddings.weight');
  let states = ids.map((id, position) =>
    layerNorm(
      Float64Array.from(
        { length: h },
        (_, i) => words[id * h + i]! + positions[(position + config.positionOffset) * h + i]! + types[i]!,
      ),
      'embeddings.LayerNorm',
    ),
  );
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `encoder.layer.${layer}`;
    const q = states.map((x) => linear(x, `${p}.attention.self.query`));
    const k = states.map((x) => linear(x, `${p}.attention.self.key`));
    const v = states.map((x) => linear(x, `${p}.attention.self.value`));
    states = states.map((x, i) => {
      const attended = new Float64Array(h);
      for (let head = 0; head < heads; head++) {
        const scores = k.map((key) => {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += q[i]![head * d + j]! * key[head * d + j]!;
          return dot / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const weights = scores.map((score) => Math.exp(score - max));
        const total = weights.reduce((sum, value) => sum + value, 0);
        for (let t = 0; t < ids.length; t++) {
          for (let j = 0; j < d; j++) attended[head * d + j]! += (weights[t]! / total) * v[t]![head * d + j]!;
        }
      }
      const a = linear(attended, `${p}.attention.output.dense`).map((value, j) => value + x[j]!);
      const y = layerNorm(a, `${p}.attention.output.LayerNorm`);
      const inner = linear(y, `${p}.intermediate.dense`).map(
        (value) => 0.5 * value * (1 + erf(value / Math.SQRT2)),
      );
      return layerNorm(
        linear(inner, `${p}.output.dense`).map((value, j) => value + y[j]!),
        `${p}.output.LayerNorm`,
      );
    });
  }
  const pooling = manifest.pooling!;
  const pooled =
    pooling.mode === 'cls'
      ? states[0]!
      : Float64Array.from(
          { length: h },
          (_, i) => states.reduce((sum, state) => sum + state[i]!, 0) / states.length,
        );
  if (!pooling.normalize) return pooled;
  const norm = Math.sqrt(pooled.reduce((sum, value) => sum + value * value, 0));
  return pooled.map((value) => value / norm);
}
