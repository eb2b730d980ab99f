/**
 * Writes a tiny BERT-family embedding model in the sentence-transformers / mlx-community layout:
 * `config.json`, BERT tensor names (optionally under a `bert.` prefix, as models saved from a task
 * head have them), a WordPiece `tokenizer.json`, `modules.json` and `1_Pooling/config.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FloatDtype, roundTo } from './tensor-encoding.js';
import { normalRandom, TensorWriter } from './tiny-model.js';
import { buildTinyTokenizer, type TinyTokenizer } from './tiny-tokenizer.js';

export interface TinyEmbeddingModelOptions {
  /** @default 64 */
  hiddenSize?: number;
  /** @default 2 */
  layers?: number;
  /** @default 4 */
  heads?: number;
  /** @default 2 × hiddenSize */
  intermediateSize?: number;
  /** @default 128 */
  maxPositions?: number;
  /** @default 'mean' */
  pooling?: 'mean' | 'cls';
  /** Writes a Normalize module into modules.json. @default true */
  normalize?: boolean;
  /** Tensor name prefix. @default '' */
  prefix?: '' | 'bert.';
  dtype?: FloatDtype;
  quantization?: { bits: 4 | 8; groupSize?: number };
  seed?: number;
  /** @default 0.1 */
  weightScale?: number;
}

export interface TinyEmbeddingModel {
  path: string;
  config: Record<string, unknown>;
  tokenizer: TinyTokenizer;
}

export function writeTinyEmbeddingModel(
  path: string,
  options: TinyEmbeddingModelOptions = {},
): TinyEmbeddingModel {
  const tokenizer = buildTinyTokenizer({ kind: 'wordpiece' });
  const hidden = options.hiddenSize ?? 64;
  const layers = options.layers ?? 2;
  const intermediate = options.intermediateSize ?? hidden * 2;
  const maxPositions = options.maxPositions ?? 128;
  const dtype = options.dtype ?? 'F32';
  const prefix = options.prefix ?? '';
  const quantization = options.quantization
    ? { bits: options.quantization.bits, groupSize: options.quantization.groupSize ?? 64 }
    : undefined;
  const random = normalRandom(options.seed ?? 7);
  const scale = options.weightScale ?? 0.1;
  const values = (size: number, base = 0, spread = scale) => {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = roundTo(dtype, base + random() * spread);
    return out;
  };
  const writer = new TensorWriter(dtype);
  const dense = (name: string, out: number, input: number) => {
    writer.matrix(`${prefix}${name}`, [out, input], values(out * input), quantization);
    writer.floats(`${prefix}${name}.bias`, [out], values(out));
  };
  const layerNorm = (name: string) => {
    writer.floats(`${prefix}${name}.weight`, [hidden], values(hidden, 1, 0.1));
    writer.floats(`${prefix}${name}.bias`, [hidden], values(hidden, 0, 0.1));
  };
  writer.matrix(
    `${prefix}embeddings.word_embeddings`,
    [tokenizer.vocabSize, hidden],
    values(tokenizer.vocabSize * hidden),
    quantization,
  );
  writer.matrix(
    `${prefix}embeddings.position_embeddings`,
    [maxPositions, hidden],
    values(maxPositions * hidden),
    quantization,
  );
  writer.floats(`${prefix}embeddings.token_type_embeddings.weight`, [2, hidden], values(2 * hidden));
  layerNorm('embeddings.LayerNorm');
  for (let layer = 0; layer < layers; layer++) {
    const p = `encoder.layer.${layer}`;
    dense(`${p}.attention.self.query`, hidden, hidden);
    dense(`${p}.attention.self.key`, hidden, hidden);
    dense(`${p}.attention.self.value`, hidden, hidden);
    dense(`${p}.attention.output.dense`, hidden, hidden);
    layerNorm(`${p}.attention.output.LayerNorm`);
    dense(`${p}.intermediate.dense`, intermediate, hidden);
    dense(`${p}.output.dense`, hidden, intermediate);
    layerNorm(`${p}.output.LayerNorm`);
  }
  if (prefix) {
    writer.matrix(`${prefix}pooler.dense`, [hidden, hidden], values(hidden * hidden));
    writer.floats(`${prefix}pooler.dense.bias`, [hidden], values(hidden));
  }
  const config: Record<string, unknown> = {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: options.heads ?? 4,
    intermediate_size: intermediate,
    vocab_size: tokenizer.vocabSize,
    max_position_embeddings: maxPositions,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
    position_embedding_type: 'absolute',
    pad_token_id: 0,
    ...(quantization
      ? { quantization: { group_size: quantization.groupSize, bits: quantization.bits } }
      : {}),
  };
  mkdirSync(join(path, '1_Pooling'), { recursive: true });
  writer.write(path, 1);
  writeFileSync(join(path, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(path, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizer));
  writeFileSync(
    join(path, 'tokenizer_config.json'),
    JSON.stringify({
      do_lower_case: true,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
    }),
  );
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (options.normalize ?? true) {
    modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  }
  writeFileSync(join(path, 'modules.json'), JSON.stringify(modules, null, 2));
  const pooling = options.pooling ?? 'mean';
  writeFileSync(
    join(path, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: hidden,
      pooling_mode_cls_token: pooling === 'cls',
      pooling_mode_mean_tokens: pooling === 'mean',
      pooling_mode_max_tokens: false,
    }),
  );
  return { path, config, tokenizer };
}
