/**
 * `@fusionkit/mlx/testing`: tiny models written at test time in the mlx-community layout (random,
 * quantized, or scripted to answer a fixed text), and a hook that crashes the worker on purpose.
 * For tests and benchmarks of code that uses the MLX provider.
 * @module
 */
export { scriptedAnswer, writeScriptedModel } from './scripted-answer.js';
export {
  type TinyEmbeddingModel,
  type TinyEmbeddingModelOptions,
  writeTinyEmbeddingModel,
} from './tiny-embedding-model.js';
export {
  type TinyArchitecture,
  type TinyChatModelOptions,
  type TinyModel,
  tinyTokenizerFor,
  writeTinyChatModel,
} from './tiny-model.js';
export {
  buildTinyTokenizer,
  type SpecialToken,
  type TinyTokenizer,
  type TinyTokenizerOptions,
} from './tiny-tokenizer.js';
export { crashNextLoads, crashNextStarts, crashWorker } from './worker-test-hooks.js';
