/**
 * `config.json` of a model directory, read into the shape the worker's models need, or refused
 * with a message that says what is not supported.
 */
import { UnsupportedLayoutError } from './unsupported-layout-error.js';

/** Quantization of linear and embedding layers (mlx-lm's `config.quantization`). */
export interface QuantizationConfig {
  groupSize: number;
  bits: number;
  /** Per-layer settings: `false` keeps a layer dense; an object overrides group size or bits. */
  layers: Record<string, false | { groupSize: number; bits: number }>;
}

/** Rope frequency scaling. */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** A decoder-only transformer of the llama family (llama, mistral, qwen2, qwen3). */
export interface CausalLmConfig {
  kind: 'causal';
  modelType: 'llama' | 'mistral' | 'qwen2' | 'qwen3';
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeTraditional: boolean;
  ropeScaling?: RopeScaling;
  contextLength: number;
  tieWordEmbeddings: boolean;
  /** Query and key RMS norms over each head (qwen3). */
  qkNorm: boolean;
  quantization?: QuantizationConfig;
  /** `eos_token_id` of config.json, one id or several. */
  eosTokenIds: number[];
}

/** A BERT-family encoder used for embeddings (all-MiniLM, bge, e5). */
export interface EncoderConfig {
  kind: 'encoder';
  modelType: 'bert' | 'xlm-roberta' | 'roberta';
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  vocabSize: number;
  contextLength: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** `gelu` is the exact (erf) form; `gelu_tanh` the tanh approximation. */
  hiddenAct: 'gelu' | 'gelu_tanh';
  /** Position ids start after the padding id (RoBERTa family); 0 for BERT. */
  positionOffset: number;
  quantization?: QuantizationConfig;
}

export type ModelConfig = CausalLmConfig | EncoderConfig;

type Json = Record<string, unknown>;

function integer(config: Json, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new UnsupportedLayoutError(
      `config.json: '${key}' must be a positive integer (got ${String(value)}).`,
    );
  }
  return value;
}

function number(config: Json, key: string, fallback: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new UnsupportedLayoutError(`config.json: '${key}' must be a number (got ${String(value)}).`);
  }
  return value;
}

function idList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((id): id is number => typeof id === 'number');
  return [];
}

function parseQuantization(value: unknown): QuantizationConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object')
    throw new UnsupportedLayoutError('config.json: quantization must be an object.');
  const raw = value as Json;
  const check = (groupSize: unknown, bits: unknown, where: string) => {
    if (bits !== 4 && bits !== 8) {
      throw new UnsupportedLayoutError(
        `${where}: ${String(bits)}-bit quantization is not supported on this runtime (4 and 8 are).`,
      );
    }
    if (groupSize !== 32 && groupSize !== 64 && groupSize !== 128) {
      throw new UnsupportedLayoutError(
        `${where}: group size ${String(groupSize)} is not supported (32, 64, 128).`,
      );
    }
    return { groupSize, bits };
  };
  const base = check(raw.group_size ?? 64, raw.bits ?? 4, 'config.json quantization');
  const layers: QuantizationConfig['layers'] = {};
  for (const [key, setting] of Object.entries(raw)) {
    if (key === 'group_size' || key === 'bits' || key === 'mode') continue;
    if (setting === false) layers[key] = false;
    else if (typeof setting === 'object' && setting !== null) {
      const layer = setting as Json;
      layers[key] = check(
        layer.group_size ?? base.groupSize,
        layer.bits ?? base.bits,
        `quantization of ${key}`,
      );
    }
  }
  if (raw.mode !== undefined && raw.mode !== 'affine') {
    throw new UnsupportedLayoutError(
      `config.json: quantization mode '${String(raw.mode)}' is not supported (affine is).`,
    );
  }
  return { ...base, layers };
}

function parseRopeScaling(value: unknown): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = value as Json;
  const type = raw.rope_type ?? raw.type;
  if (type === 'default') return undefined;
  const factor = typeof raw.factor === 'number' ? raw.factor : 1;
  if (type === 'linear') return { type: 'linear', factor };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor,
      lowFreqFactor: Number(raw.low_freq_factor ?? 1),
      highFreqFactor: Number(raw.high_freq_factor ?? 4),
      originalMaxPositionEmbeddings: Number(raw.original_max_position_embeddings ?? 8192),
    };
  }
  throw new UnsupportedLayoutError(
    `config.json: rope scaling '${String(type)}' is not supported (linear and llama3 are).`,
  );
}

const CAUSAL_TYPES = new Set(['llama', 'mistral', 'qwen2', 'qwen3']);
const ENCODER_TYPES = new Set(['bert', 'xlm-roberta', 'roberta']);

/** Reads `config.json`; throws {@link UnsupportedLayoutError} for what this runtime cannot run. */
export function parseModelConfig(config: Json): ModelConfig {
  const modelType = String(config.model_type ?? '');
  if (CAUSAL_TYPES.has(modelType)) return parseCausal(config, modelType as CausalLmConfig['modelType']);
  if (ENCODER_TYPES.has(modelType)) return parseEncoder(config, modelType as EncoderConfig['modelType']);
  throw new UnsupportedLayoutError(
    `Model type '${modelType || '(none)'}' is not supported. Chat models: llama, mistral, qwen2, qwen3; embedding models: bert, roberta, xlm-roberta.`,
  );
}

function parseCausal(config: Json, modelType: CausalLmConfig['modelType']): CausalLmConfig {
  const hiddenSize = integer(config, 'hidden_size');
  const numHeads = integer(config, 'num_attention_heads');
  const numKvHeads = integer(config, 'num_key_value_heads', numHeads);
  const headDim = integer(config, 'head_dim', hiddenSize / numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new UnsupportedLayoutError(
      `config.json: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads}).`,
    );
  }
  if (config.hidden_act !== undefined && config.hidden_act !== 'silu') {
    throw new UnsupportedLayoutError(
      `config.json: hidden_act '${String(config.hidden_act)}' is not supported (silu is).`,
    );
  }
  if (config.partial_rotary_factor !== undefined && config.partial_rotary_factor !== 1) {
    throw new UnsupportedLayoutError('config.json: partial rotary embeddings are not supported.');
  }
  let contextLength = integer(config, 'max_position_embeddings', 32768);
  // Sliding-window attention is not implemented: serve only the window, where both agree.
  const useSlidingWindow = modelType === 'mistral' || config.use_sliding_window === true;
  if (useSlidingWindow && typeof config.sliding_window === 'number' && config.sliding_window > 0) {
    contextLength = Math.min(contextLength, config.sliding_window);
  }
  const quantization = parseQuantization(config.quantization ?? config.quantization_config);
  const ropeScaling = parseRopeScaling(config.rope_scaling);
  return {
    kind: 'causal',
    modelType,
    hiddenSize,
    numLayers: integer(config, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: integer(config, 'intermediate_size'),
    vocabSize: integer(config, 'vocab_size'),
    rmsNormEps: number(config, 'rms_norm_eps', 1e-6),
    ropeTheta: number(config, 'rope_theta', 10000),
    ropeTraditional: config.rope_traditional === true,
    ...(ropeScaling ? { ropeScaling } : {}),
    contextLength,
    tieWordEmbeddings: config.tie_word_embeddings === true,
    qkNorm: modelType === 'qwen3',
    ...(quantization ? { quantization } : {}),
    eosTokenIds: idList(config.eos_token_id),
  };
}

function parseEncoder(config: Json, modelType: EncoderConfig['modelType']): EncoderConfig {
  const act = config.hidden_act ?? 'gelu';
  if (act !== 'gelu' && act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
    throw new UnsupportedLayoutError(
      `config.json: hidden_act '${String(act)}' is not supported for encoders (gelu is).`,
    );
  }
  if (config.position_embedding_type !== undefined && config.position_embedding_type !== 'absolute') {
    throw new UnsupportedLayoutError(
      `config.json: position_embedding_type '${String(config.position_embedding_type)}' is not supported (absolute is).`,
    );
  }
  const roberta = modelType !== 'bert';
  const quantization = parseQuantization(config.quantization);
  const padTokenId = typeof config.pad_token_id === 'number' ? config.pad_token_id : 1;
  const maxPositions = integer(config, 'max_position_embeddings', 512);
  return {
    kind: 'encoder',
    modelType,
    hiddenSize: integer(config, 'hidden_size'),
    numLayers: integer(config, 'num_hidden_layers'),
    numHeads: integer(config, 'num_attention_heads'),
    intermediateSize: integer(config, 'intermediate_size'),
    vocabSize: integer(config, 'vocab_size'),
    contextLength: roberta ? maxPositions - padTokenId - 1 : maxPositions,
    typeVocabSize: integer(config, 'type_vocab_size', 2),
    layerNormEps: number(config, 'layer_norm_eps', 1e-12),
    hiddenAct: act === 'gelu' ? 'gelu' : 'gelu_tanh',
    positionOffset: roberta ? padTokenId + 1 : 0,
    ...(quantization ? { quantization } : {}),
  };
}
