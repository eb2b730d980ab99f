/**
 * Writes tiny models in the mlx-community directory layout, at test time: `config.json`,
 * safetensors weights with the checkpoint's tensor names (sharded with an index, 16-bit floats,
 * 4-/8-bit quantized, as asked), `tokenizer.json`, `tokenizer_config.json` with a chat template (or
 * `chat_template.jinja`), `generation_config.json`. Weights are random (seeded), or scripted: a
 * model that, greedily, answers a fixed token sequence.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FloatDtype, roundTo } from './tensor-encoding.js';
import { TensorWriter } from './tensor-writer.js';
import { family, type TinyArchitecture, tinyTokenizerFor } from './tiny-model-families.js';
import type { SpecialToken, TinyTokenizer } from './tiny-tokenizer.js';

export { TensorWriter } from './tensor-writer.js';
export { type TinyArchitecture, tinyTokenizerFor } from './tiny-model-families.js';

export interface TinyChatModelOptions {
  architecture: TinyArchitecture;
  /** @default 64 */
  hiddenSize?: number;
  /** @default 2 */
  layers?: number;
  /** @default 4 */
  heads?: number;
  /** @default 2 */
  kvHeads?: number;
  /** @default hiddenSize / heads (qwen3: 32, so that heads × headDim ≠ hidden, as in real Qwen3) */
  headDim?: number;
  /** @default 2 × hiddenSize */
  intermediateSize?: number;
  /** @default 4096 */
  contextLength?: number;
  /** Storage of float tensors. @default 'F32' */
  dtype?: FloatDtype;
  /** Quantize linear and embedding layers (in-features ≥ 256 for 4-bit, 128 for 8-bit). */
  quantization?: { bits: 4 | 8; groupSize?: number };
  /** With `quantization`: write dense float32 weights equal to the quantized ones, dequantized. */
  dequantized?: boolean;
  /** Weight files; more than one writes `model.safetensors.index.json`. @default 1 */
  shards?: number;
  /** @default 1 */
  seed?: number;
  /** Standard deviation of random matrices. @default 0.1 */
  weightScale?: number;
  /** `rope_scaling` of config.json (llama: Llama 3.1's by default). */
  ropeScaling?: Record<string, unknown> | null;
  /** @default true for qwen2 and qwen3 */
  tieWordEmbeddings?: boolean;
  /**
   * Vocabulary size: byte-level families get a tokenizer padded to it (synthetic merges), so
   * that a benchmark model has a real-sized embedding table and output head.
   */
  vocabSize?: number;
  /** Tokens added to the family's tokenizer (e.g. whole pieces a scripted answer uses). */
  extraTokens?: (string | SpecialToken)[];
  /** A ready tokenizer instead of the family's tiny one (`tokenizer.json` and `tokenizer_config.json`). */
  tokenizerFiles?: { tokenizer: Record<string, unknown>; config: Record<string, unknown> };
  /** Overrides the family's template. */
  chatTemplate?: string;
  /** Write the template as `chat_template.jinja` instead of into tokenizer_config.json. */
  templateFile?: boolean;
  /**
   * A scripted model: after token `after`, it answers `tokens` then `eos` (greedy decoding). Its
   * layers are zero, so only the token just read decides the next; every token of the chain must
   * be distinct.
   */
  script?: { after: number; tokens: number[]; eos: number };
}

export interface TinyModel {
  path: string;
  config: Record<string, unknown>;
  tokenizer: TinyTokenizer;
  vocabSize: number;
}

/** Seeded standard normal numbers (mulberry32 + Box-Muller). */
export function normalRandom(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Writes a tiny chat model into `path` (created if needed). */
export function writeTinyChatModel(path: string, options: TinyChatModelOptions): TinyModel {
  const { architecture } = options;
  const defaults = family(architecture);
  const tokenizer = options.tokenizerFiles
    ? {
        tokenizer: options.tokenizerFiles.tokenizer,
        vocabSize: 0,
        ids: {} as Record<string, number>,
      }
    : tinyTokenizerFor(architecture, options.extraTokens, options.vocabSize);
  if (options.tokenizerFiles) {
    const model = options.tokenizerFiles.tokenizer.model as { vocab: Record<string, number> };
    const added = options.tokenizerFiles.tokenizer.added_tokens as { id: number; content: string }[];
    let max = Math.max(...Object.values(model.vocab));
    for (const token of added) {
      tokenizer.ids[token.content] = token.id;
      max = Math.max(max, token.id);
    }
    tokenizer.vocabSize = max + 1;
  }
  const hidden = options.hiddenSize ?? 64;
  const heads = options.heads ?? 4;
  const kvHeads = options.kvHeads ?? 2;
  const headDim = options.headDim ?? (architecture === 'qwen3' ? 32 : hidden / heads);
  const intermediate = options.intermediateSize ?? hidden * 2;
  const layers = options.layers ?? 2;
  const vocab = tokenizer.vocabSize;
  const tie = options.script
    ? false
    : (options.tieWordEmbeddings ?? (architecture === 'qwen2' || architecture === 'qwen3'));
  const dtype = options.dtype ?? 'F32';
  const groupSize = options.quantization?.groupSize ?? 64;
  const quantization = options.quantization
    ? { bits: options.quantization.bits, groupSize, ...(options.dequantized ? { dequantized: true } : {}) }
    : undefined;
  const eosIds = defaults.eos
    .map((token) => tokenizer.ids[token])
    .filter((id): id is number => id !== undefined);
  const ropeScaling =
    options.ropeScaling !== undefined
      ? options.ropeScaling
      : architecture === 'llama'
        ? {
            rope_type: 'llama3',
            factor: 8,
            low_freq_factor: 1,
            high_freq_factor: 4,
            original_max_position_embeddings: 1024,
          }
        : null;
  const config: Record<string, unknown> = {
    architectures: [
      {
        llama: 'LlamaForCausalLM',
        mistral: 'MistralForCausalLM',
        qwen2: 'Qwen2ForCausalLM',
        qwen3: 'Qwen3ForCausalLM',
      }[architecture],
    ],
    model_type: architecture,
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    intermediate_size: intermediate,
    vocab_size: vocab,
    max_position_embeddings: options.contextLength ?? 4096,
    rms_norm_eps: 1e-6,
    rope_theta: architecture === 'llama' ? 500000 : 10000,
    rope_scaling: ropeScaling,
    tie_word_embeddings: tie,
    hidden_act: 'silu',
    torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16',
    eos_token_id: eosIds.length === 1 ? eosIds[0] : eosIds,
    ...(architecture === 'qwen2' ? { attention_bias: true } : {}),
    ...(architecture === 'mistral' ? { sliding_window: null } : {}),
    ...(quantization && !options.dequantized
      ? { quantization: { group_size: groupSize, bits: quantization.bits } }
      : {}),
  };

  const random = normalRandom(options.seed ?? 1);
  const scale = options.weightScale ?? 0.1;
  const randomMatrix = (rows: number, columns: number) => {
    const values = new Float32Array(rows * columns);
    for (let i = 0; i < values.length; i++) values[i] = roundTo(dtype, random() * scale);
    return values;
  };
  const zeros = (size: number) => new Float32Array(size);
  const norm = (size: number) => {
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = options.script ? 1 : roundTo(dtype, 1 + random() * 0.1);
    return values;
  };
  const matrix = options.script ? (rows: number, columns: number) => zeros(rows * columns) : randomMatrix;

  const writer = new TensorWriter(dtype);
  let embedding: Float32Array;
  let head: Float32Array | undefined;
  if (options.script) {
    ({ embedding, head } = scriptedEmbeddings(options.script, vocab, hidden, random));
  } else {
    embedding = randomMatrix(vocab, hidden);
    if (!tie) head = randomMatrix(vocab, hidden);
  }
  writer.matrix('model.embed_tokens', [vocab, hidden], embedding, quantization);
  if (head) writer.matrix('lm_head', [vocab, hidden], head, quantization);
  else if (!tie) throw new Error('An untied model needs an lm_head.');
  writer.floats('model.norm.weight', [hidden], norm(hidden));
  for (let layer = 0; layer < layers; layer++) {
    const p = `model.layers.${layer}`;
    writer.floats(`${p}.input_layernorm.weight`, [hidden], norm(hidden));
    writer.floats(`${p}.post_attention_layernorm.weight`, [hidden], norm(hidden));
    writer.matrix(
      `${p}.self_attn.q_proj`,
      [heads * headDim, hidden],
      matrix(heads * headDim, hidden),
      quantization,
    );
    writer.matrix(
      `${p}.self_attn.k_proj`,
      [kvHeads * headDim, hidden],
      matrix(kvHeads * headDim, hidden),
      quantization,
    );
    writer.matrix(
      `${p}.self_attn.v_proj`,
      [kvHeads * headDim, hidden],
      matrix(kvHeads * headDim, hidden),
      quantization,
    );
    writer.matrix(
      `${p}.self_attn.o_proj`,
      [hidden, heads * headDim],
      matrix(hidden, heads * headDim),
      quantization,
    );
    if (architecture === 'qwen2') {
      writer.floats(`${p}.self_attn.q_proj.bias`, [heads * headDim], matrix(1, heads * headDim));
      writer.floats(`${p}.self_attn.k_proj.bias`, [kvHeads * headDim], matrix(1, kvHeads * headDim));
      writer.floats(`${p}.self_attn.v_proj.bias`, [kvHeads * headDim], matrix(1, kvHeads * headDim));
    }
    if (architecture === 'qwen3') {
      writer.floats(`${p}.self_attn.q_norm.weight`, [headDim], norm(headDim));
      writer.floats(`${p}.self_attn.k_norm.weight`, [headDim], norm(headDim));
    }
    writer.matrix(`${p}.mlp.gate_proj`, [intermediate, hidden], matrix(intermediate, hidden), quantization);
    writer.matrix(`${p}.mlp.up_proj`, [intermediate, hidden], matrix(intermediate, hidden), quantization);
    writer.matrix(`${p}.mlp.down_proj`, [hidden, intermediate], matrix(hidden, intermediate), quantization);
  }

  mkdirSync(path, { recursive: true });
  writer.write(path, options.shards ?? 1);
  writeFileSync(join(path, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(path, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizer));
  const template = options.chatTemplate ?? defaults.template;
  const tokenizerConfig: Record<string, unknown> = {
    ...(options.tokenizerFiles?.config ?? defaults.tokenizerConfig),
    model_max_length: options.contextLength ?? 4096,
  };
  if (options.templateFile) {
    delete tokenizerConfig.chat_template;
    writeFileSync(join(path, 'chat_template.jinja'), template);
  } else if (!options.tokenizerFiles || options.chatTemplate) tokenizerConfig.chat_template = template;
  writeFileSync(join(path, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  writeFileSync(
    join(path, 'generation_config.json'),
    JSON.stringify({ eos_token_id: eosIds, ...(options.script ? { temperature: 0 } : {}) }, null, 2),
  );
  return { path, config, tokenizer, vocabSize: vocab };
}

/**
 * Embeddings and output head of a scripted model: each token reads as a random unit vector, and the
 * head row of each scripted successor points along the vector of its predecessor, so the greedy
 * next token of `chain[i]` is `chain[i + 1]`.
 */
function scriptedEmbeddings(
  script: NonNullable<TinyChatModelOptions['script']>,
  vocab: number,
  hidden: number,
  random: () => number,
): { embedding: Float32Array; head: Float32Array } {
  const chain = [script.after, ...script.tokens, script.eos];
  if (new Set(chain.slice(0, -1)).size !== chain.length - 1) {
    throw new Error('Every token of a scripted answer (and the token it follows) must be distinct.');
  }
  const embedding = new Float32Array(vocab * hidden);
  for (let token = 0; token < vocab; token++) {
    let norm = 0;
    const row = embedding.subarray(token * hidden, (token + 1) * hidden);
    for (let i = 0; i < hidden; i++) {
      row[i] = random();
      norm += row[i]! ** 2;
    }
    for (let i = 0; i < hidden; i++) row[i] = row[i]! / Math.sqrt(norm);
  }
  const head = new Float32Array(vocab * hidden);
  // After RMS norm a unit vector has length sqrt(hidden): a gain of 10 / sqrt(hidden) puts the
  // scripted logit at 10, far above the others (random cosines).
  const gain = 10 / Math.sqrt(hidden);
  for (let i = 0; i + 1 < chain.length; i++) {
    const from = chain[i]!;
    const to = chain[i + 1]!;
    for (let d = 0; d < hidden; d++) head[to * hidden + d] = embedding[from * hidden + d]! * gain;
  }
  return { embedding, head };
}
