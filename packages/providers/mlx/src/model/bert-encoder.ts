/**
 * A BERT-family encoder (BERT, RoBERTa, XLM-R layouts: all-MiniLM, bge, e5) turning padded batches
 * of token ids into one vector per text: post-norm blocks, GELU MLP, then mean or CLS pooling and
 * optional L2 normalisation.
 */
import type { EncoderConfig } from '../loading/model-config.js';
import type { ModelManifest } from '../loading/model-manifest.js';
import { type Mx, type MxArray, mlx } from '../mlx/mlx-binding.js';
import { applyLinear, embeddingRows, type LinearLayer, WeightStore } from './weight-store.js';

interface EncoderLayer {
  query: LinearLayer;
  key: LinearLayer;
  value: LinearLayer;
  attentionOutput: LinearLayer;
  attentionNorm: [MxArray, MxArray];
  intermediate: LinearLayer;
  output: LinearLayer;
  outputNorm: [MxArray, MxArray];
}

export interface PoolingOptions {
  mode: 'mean' | 'cls';
  normalize: boolean;
}

export class BertEncoder {
  readonly config: EncoderConfig;
  readonly weights: WeightStore;
  readonly #mx: Mx;
  readonly #words: LinearLayer;
  readonly #positions: LinearLayer;
  readonly #types: LinearLayer | undefined;
  readonly #embeddingNorm: [MxArray, MxArray];
  readonly #layers: EncoderLayer[] = [];

  constructor(config: EncoderConfig, weights: WeightStore) {
    this.#mx = mlx();
    this.config = config;
    this.weights = weights;
    const norm = (name: string): [MxArray, MxArray] => [
      weights.get(`${name}.weight`),
      weights.get(`${name}.bias`),
    ];
    this.#words = weights.linear('embeddings.word_embeddings');
    this.#positions = weights.linear('embeddings.position_embeddings');
    this.#types = weights.has('embeddings.token_type_embeddings')
      ? weights.linear('embeddings.token_type_embeddings')
      : undefined;
    this.#embeddingNorm = norm('embeddings.LayerNorm');
    for (let index = 0; index < config.numLayers; index++) {
      const p = `encoder.layer.${index}`;
      this.#layers.push({
        query: weights.linear(`${p}.attention.self.query`),
        key: weights.linear(`${p}.attention.self.key`),
        value: weights.linear(`${p}.attention.self.value`),
        attentionOutput: weights.linear(`${p}.attention.output.dense`),
        attentionNorm: norm(`${p}.attention.output.LayerNorm`),
        intermediate: weights.linear(`${p}.intermediate.dense`),
        output: weights.linear(`${p}.output.dense`),
        outputNorm: norm(`${p}.output.LayerNorm`),
      });
    }
  }

  static load(manifest: ModelManifest): BertEncoder {
    if (manifest.config.kind !== 'encoder') throw new Error(`${manifest.path} is not an encoder.`);
    return new BertEncoder(manifest.config, WeightStore.load(manifest));
  }

  /**
   * Encodes a batch (each row already holds the tokenizer's special tokens) into pooled vectors
   * `[batch, hidden]`. Rows are padded here; padding never takes part in attention or pooling.
   */
  encode(batch: number[][], pooling: PoolingOptions): MxArray {
    const mx = this.#mx;
    const { hiddenSize, numHeads, layerNormEps } = this.config;
    const length = Math.max(...batch.map((row) => row.length));
    const size = batch.length;
    const ids = mx.array(
      batch.map((row) => [...row, ...new Array<number>(length - row.length).fill(0)]),
      mx.int32,
    );
    const present = batch.map((row) => Array.from({ length }, (_, i) => (i < row.length ? 1 : 0)));
    const maskValues = mx.array(present, mx.float32); // [B, T]
    const positions = mx.arange(this.config.positionOffset, this.config.positionOffset + length, 1, mx.int32);
    let x = mx.add(embeddingRows(mx, this.#words, ids), embeddingRows(mx, this.#positions, positions));
    if (this.#types) x = mx.add(x, embeddingRows(mx, this.#types, mx.zeros([size, length], mx.int32)));
    x = mx.fast.layerNorm(x, this.#embeddingNorm[0], this.#embeddingNorm[1], layerNormEps);
    const additiveMask = mx
      .where(
        mx.greaterEqual(maskValues, 0.5),
        mx.array(0, mx.float32),
        mx.array(Number.NEGATIVE_INFINITY, mx.float32),
      )
      .reshape([size, 1, 1, length]);
    const headDim = hiddenSize / numHeads;
    const scale = 1 / Math.sqrt(headDim);
    for (const layer of this.#layers) {
      const heads = (y: MxArray) => y.reshape([size, length, numHeads, headDim]).transpose(0, 2, 1, 3);
      const attention = mx.fast
        .scaledDotProductAttention(
          heads(applyLinear(mx, x, layer.query)),
          heads(applyLinear(mx, x, layer.key)),
          heads(applyLinear(mx, x, layer.value)),
          scale,
          additiveMask,
        )
        .transpose(0, 2, 1, 3)
        .reshape([size, length, hiddenSize]);
      x = mx.fast.layerNorm(
        mx.add(x, applyLinear(mx, attention, layer.attentionOutput)),
        layer.attentionNorm[0],
        layer.attentionNorm[1],
        layerNormEps,
      );
      const inner = this.#gelu(applyLinear(mx, x, layer.intermediate));
      x = mx.fast.layerNorm(
        mx.add(x, applyLinear(mx, inner, layer.output)),
        layer.outputNorm[0],
        layer.outputNorm[1],
        layerNormEps,
      );
    }
    let pooled: MxArray;
    if (pooling.mode === 'cls') pooled = x.index(mx.Slice(), 0);
    else {
      const weights = maskValues.reshape([size, length, 1]);
      pooled = mx.divide(mx.sum(mx.multiply(x, weights), 1), mx.sum(weights, 1));
    }
    if (pooling.normalize) {
      const norm = mx.sqrt(mx.sum(mx.square(pooled), -1, true));
      pooled = mx.divide(pooled, mx.maximum(norm, 1e-12));
    }
    return pooled;
  }

  #gelu(x: MxArray): MxArray {
    const mx = this.#mx;
    if (this.config.hiddenAct === 'gelu') {
      return mx.multiply(mx.multiply(x, 0.5), mx.add(mx.erf(mx.multiply(x, Math.SQRT1_2)), 1));
    }
    const inner = mx.multiply(mx.add(x, mx.multiply(mx.power(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return mx.multiply(mx.multiply(x, 0.5), mx.add(mx.tanh(inner), 1));
  }
}
