/**
 * The tensors each supported architecture needs, by their mlx-community names, with logical
 * (unquantized) shapes. Checked against the safetensors headers before the worker loads anything.
 */
import type { CausalLmConfig, EncoderConfig } from './model-config.js';

export interface ExpectedTensor {
  /** Name without the `.weight` suffix for weight matrices; full name otherwise. */
  name: string;
  /** Logical shape `[out, in]` of a matrix, `[n]` of a vector. */
  shape: number[];
  /** Linear or embedding layers, which may be stored quantized (`.weight` packed, `.scales`, `.biases`). */
  quantizable: boolean;
  /** Present in some checkpoints only (biases, tied heads). */
  optional?: boolean;
}

function matrix(name: string, out: number, input: number, optional = false): ExpectedTensor {
  return { name, shape: [out, input], quantizable: true, ...(optional ? { optional } : {}) };
}

function vector(name: string, size: number, optional = false): ExpectedTensor {
  return { name, shape: [size], quantizable: false, ...(optional ? { optional } : {}) };
}

/** Tensors of a llama / mistral / qwen2 / qwen3 checkpoint. */
export function expectedCausalTensors(config: CausalLmConfig): ExpectedTensor[] {
  const { hiddenSize: h, headDim: d, numHeads, numKvHeads, intermediateSize: inter, vocabSize } = config;
  const tensors: ExpectedTensor[] = [
    matrix('model.embed_tokens', vocabSize, h),
    vector('model.norm.weight', h),
  ];
  tensors.push(matrix('lm_head', vocabSize, h, config.tieWordEmbeddings));
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    tensors.push(
      vector(`${p}.input_layernorm.weight`, h),
      vector(`${p}.post_attention_layernorm.weight`, h),
      matrix(`${p}.self_attn.q_proj`, numHeads * d, h),
      matrix(`${p}.self_attn.k_proj`, numKvHeads * d, h),
      matrix(`${p}.self_attn.v_proj`, numKvHeads * d, h),
      matrix(`${p}.self_attn.o_proj`, h, numHeads * d),
      vector(`${p}.self_attn.q_proj.bias`, numHeads * d, true),
      vector(`${p}.self_attn.k_proj.bias`, numKvHeads * d, true),
      vector(`${p}.self_attn.v_proj.bias`, numKvHeads * d, true),
      vector(`${p}.self_attn.o_proj.bias`, h, true),
      matrix(`${p}.mlp.gate_proj`, inter, h),
      matrix(`${p}.mlp.up_proj`, inter, h),
      matrix(`${p}.mlp.down_proj`, h, inter),
    );
    if (config.qkNorm) {
      tensors.push(vector(`${p}.self_attn.q_norm.weight`, d), vector(`${p}.self_attn.k_norm.weight`, d));
    }
  }
  return tensors;
}

/** Tensors of a BERT-family encoder, after {@link sanitizeEncoderName}. */
export function expectedEncoderTensors(config: EncoderConfig): ExpectedTensor[] {
  const { hiddenSize: h, intermediateSize: inter } = config;
  const tensors: ExpectedTensor[] = [
    matrix('embeddings.word_embeddings', config.vocabSize, h),
    matrix('embeddings.position_embeddings', config.contextLength + config.positionOffset, h),
    matrix('embeddings.token_type_embeddings', config.typeVocabSize, h, true),
    vector('embeddings.LayerNorm.weight', h),
    vector('embeddings.LayerNorm.bias', h),
  ];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `encoder.layer.${layer}`;
    for (const part of ['query', 'key', 'value']) {
      tensors.push(
        matrix(`${p}.attention.self.${part}`, h, h),
        vector(`${p}.attention.self.${part}.bias`, h),
      );
    }
    tensors.push(
      matrix(`${p}.attention.output.dense`, h, h),
      vector(`${p}.attention.output.dense.bias`, h),
      vector(`${p}.attention.output.LayerNorm.weight`, h),
      vector(`${p}.attention.output.LayerNorm.bias`, h),
      matrix(`${p}.intermediate.dense`, inter, h),
      vector(`${p}.intermediate.dense.bias`, inter),
      matrix(`${p}.output.dense`, h, inter),
      vector(`${p}.output.dense.bias`, h),
      vector(`${p}.output.LayerNorm.weight`, h),
      vector(`${p}.output.LayerNorm.bias`, h),
    );
  }
  return tensors;
}

/**
 * Maps checkpoint names of encoders to one scheme: drops a `bert.`/`roberta.` prefix (models saved
 * from a task head) and renames the old `gamma`/`beta` of layer norms.
 */
export function sanitizeEncoderName(name: string): string {
  return name
    .replace(/^(bert|roberta|model)\./, '')
    .replace(/LayerNorm\.gamma$/, 'LayerNorm.weight')
    .replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

/** Tensors a checkpoint may hold that no model here uses. */
export function isIgnoredTensor(name: string): boolean {
  return (
    name.endsWith('.rotary_emb.inv_freq') ||
    name.startsWith('pooler.') ||
    name.startsWith('cls.') ||
    name.endsWith('position_ids')
  );
}
