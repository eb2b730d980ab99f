/**
 * `@fusionkit/mlx`: in-process MLX chat and embedding models on node-mlx, run in a supervised
 * worker process so that a native crash fails the requests it was serving (503 `model_crashed`)
 * instead of the orchestrator. Models come from mlx-community directories (llama, mistral, qwen2,
 * qwen3; f32, f16/bf16, 4-bit and 8-bit) and BERT-family embedders, found under a folder and in
 * the Hugging Face cache.
 *
 * @example
 * import { createFusion } from '@fusionkit/core';
 * import { createMlxProvider } from '@fusionkit/mlx';
 *
 * const mlx = createMlxProvider({ modelsDir: './models' });
 * const fusion = createFusion({ providers: [mlx], queue: { models: { 'mlx/qwen3-0.6b-4bit': 1 } } });
 * @module
 */
export {
  type DiscoveryOptions,
  discoverModelLocations,
  huggingFaceHubDir,
  type ModelLocation,
} from './discovery/discover-models.js';
export type { ModelConfig } from './loading/model-config.js';
export { type ModelManifest, readModelManifest } from './loading/model-manifest.js';
export { UnsupportedLayoutError } from './loading/unsupported-layout-error.js';
export { createMlxPlugin, type MlxPlugin, type MlxPluginOptions } from './provider/create-mlx-plugin.js';
export { createMlxProvider } from './provider/create-mlx-provider.js';
export type { MlxProvider, MlxWorkerStatus } from './provider/mlx-provider.js';
export type { MlxProviderOptions } from './provider/mlx-provider-options.js';
export type { SkippedModel } from './provider/model-catalog.js';
export type { MemoryReport } from './worker/protocol.js';
