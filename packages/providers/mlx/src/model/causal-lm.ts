/**
 * The llama-family decoder (llama, mistral, qwen2, qwen3) on MLX: pre-norm blocks of grouped-query
 * attention with rotary positions and a SwiGLU MLP. Qwen2 adds q/k/v biases, Qwen3 RMS-norms queries
 * and keys per head; both come from which tensors the checkpoint has.
 */
import type { CausalLmConfig } from '../loading/model-config.js';
import type { ModelManifest } from '../loading/model-manifest.js';
import { type Mx, type MxArray, mlx } from '../mlx/mlx-binding.js';
import { KV_CACHE_STEP, KvCache } from './kv-cache.js';
import { Rope } from './rope.js';
import { applyLinear, embeddingRows, type LinearLayer, WeightStore } from './weight-store.js';

interface DecoderLayer {
  inputNorm: MxArray;
  postAttentionNorm: MxArray;
  q: LinearLayer;
  k: LinearLayer;
  v: LinearLayer;
  o: LinearLayer;
  qNorm?: MxArray;
  kNorm?: MxArray;
  gate: LinearLayer;
  up: LinearLayer;
  down: LinearLayer;
}

export interface ForwardOptions {
  /** Logits of every position instead of the last only (tests, scoring). */
  allPositions?: boolean;
}

export class CausalLm {
  readonly config: CausalLmConfig;
  readonly weights: WeightStore;
  readonly #mx: Mx;
  readonly #rope: Rope;
  readonly #embed: LinearLayer;
  readonly #head: LinearLayer;
  readonly #norm: MxArray;
  readonly #layers: DecoderLayer[] = [];
  readonly #scale: number;

  constructor(config: CausalLmConfig, weights: WeightStore) {
    this.#mx = mlx();
    this.config = config;
    this.weights = weights;
    this.#rope = new Rope(this.#mx, config);
    this.#embed = weights.linear('model.embed_tokens');
    this.#head = weights.has('lm_head') ? weights.linear('lm_head') : this.#embed;
    this.#norm = weights.get('model.norm.weight');
    this.#scale = 1 / Math.sqrt(config.headDim);
    for (let index = 0; index < config.numLayers; index++) {
      const p = `model.layers.${index}`;
      const qNorm = weights.optional(`${p}.self_attn.q_norm.weight`);
      const kNorm = weights.optional(`${p}.self_attn.k_norm.weight`);
      this.#layers.push({
        inputNorm: weights.get(`${p}.input_layernorm.weight`),
        postAttentionNorm: weights.get(`${p}.post_attention_layernorm.weight`),
        q: weights.linear(`${p}.self_attn.q_proj`),
        k: weights.linear(`${p}.self_attn.k_proj`),
        v: weights.linear(`${p}.self_attn.v_proj`),
        o: weights.linear(`${p}.self_attn.o_proj`),
        ...(qNorm ? { qNorm } : {}),
        ...(kNorm ? { kNorm } : {}),
        gate: weights.linear(`${p}.mlp.gate_proj`),
        up: weights.linear(`${p}.mlp.up_proj`),
        down: weights.linear(`${p}.mlp.down_proj`),
      });
    }
  }

  /** Loads the weights a manifest names. */
  static load(manifest: ModelManifest): CausalLm {
    if (manifest.config.kind !== 'causal')
      throw new Error(`${manifest.path} is not a causal language model.`);
    return new CausalLm(manifest.config, WeightStore.load(manifest));
  }

  /** A fresh cache, one per layer. */
  newCache(step = KV_CACHE_STEP): KvCache[] {
    return this.#layers.map(() => new KvCache(this.#mx, step));
  }

  /**
   * Runs `tokens` after what `cache` holds (appending to it) and returns lazy logits:
   * `[vocab]` of the last position, or `[tokens, vocab]` with `allPositions`.
   */
  forward(tokens: number[], cache: KvCache[], options: ForwardOptions = {}): MxArray {
    const mx = this.#mx;
    const length = tokens.length;
    const offset = cache[0]?.offset ?? 0;
    let x = embeddingRows(mx, this.#embed, mx.array([tokens], mx.int32)); // [1, L, H]
    const mask = length > 1 ? this.#causalMask(length, offset) : undefined;
    for (let index = 0; index < this.#layers.length; index++) {
      const layer = this.#layers[index]!;
      const attention = this.#attention(
        layer,
        mx.fast.rmsNorm(x, layer.inputNorm, this.config.rmsNormEps),
        cache[index]!,
        offset,
        mask,
      );
      const h = mx.add(x, attention);
      x = mx.add(h, this.#mlp(layer, mx.fast.rmsNorm(h, layer.postAttentionNorm, this.config.rmsNormEps)));
    }
    if (!options.allPositions && length > 1) x = x.index(mx.Slice(), mx.Slice(-1));
    const logits = applyLinear(mx, mx.fast.rmsNorm(x, this.#norm, this.config.rmsNormEps), this.#head);
    return options.allPositions ? logits.index(0) : logits.reshape([this.config.vocabSize]);
  }

  #attention(layer: DecoderLayer, x: MxArray, cache: KvCache, offset: number, mask?: MxArray): MxArray {
    const mx = this.#mx;
    const { numHeads, numKvHeads, headDim } = this.config;
    const length = x.shape[1]!;
    const heads = (y: MxArray, count: number) => y.reshape([1, length, count, headDim]);
    let queries = heads(applyLinear(mx, x, layer.q), numHeads);
    let keys = heads(applyLinear(mx, x, layer.k), numKvHeads);
    const values = heads(applyLinear(mx, x, layer.v), numKvHeads).transpose(0, 2, 1, 3);
    if (layer.qNorm) queries = mx.fast.rmsNorm(queries, layer.qNorm, this.config.rmsNormEps);
    if (layer.kNorm) keys = mx.fast.rmsNorm(keys, layer.kNorm, this.config.rmsNormEps);
    queries = this.#rope.apply(queries.transpose(0, 2, 1, 3), offset);
    keys = this.#rope.apply(keys.transpose(0, 2, 1, 3), offset);
    const [allKeys, allValues] = cache.update(keys, values);
    const output = mx.fast.scaledDotProductAttention(queries, allKeys, allValues, this.#scale, mask);
    return applyLinear(mx, output.transpose(0, 2, 1, 3).reshape([1, length, numHeads * headDim]), layer.o);
  }

  #mlp(layer: DecoderLayer, x: MxArray): MxArray {
    const mx = this.#mx;
    const gate = applyLinear(mx, x, layer.gate);
    const activated = mx.multiply(gate, mx.sigmoid(gate));
    return applyLinear(mx, mx.multiply(activated, applyLinear(mx, x, layer.up)), layer.down);
  }

  /** `[L, offset + L]`: 0 where a position may attend, -inf after it. */
  #causalMask(length: number, offset: number): MxArray {
    const mx = this.#mx;
    const rows = mx.reshape(mx.arange(offset, offset + length, 1, mx.int32), [length, 1]);
    const columns = mx.reshape(mx.arange(0, offset + length, 1, mx.int32), [1, offset + length]);
    return mx.where(
      mx.greaterEqual(rows, columns),
      mx.array(0, mx.float32),
      mx.array(Number.NEGATIVE_INFINITY, mx.float32),
    );
  }
}
