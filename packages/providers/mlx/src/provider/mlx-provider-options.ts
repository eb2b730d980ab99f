/** Options of {@link createMlxProvider}. */
export interface MlxProviderOptions {
  /** Provider id; prefixes its model ids (`mlx/qwen3-0.6b-4bit`). @default 'mlx' */
  id?: string;
  /**
   * Folder(s) holding model directories (mlx-community layout, one model per subdirectory, the
   * directory name being the model id). Scanned on every `models()` call: a directory dropped in
   * appears at the next refresh.
   */
  modelsDir?: string | string[];
  /**
   * Also serve `mlx-community` models found in the Hugging Face cache (`$HF_HUB_CACHE`, else
   * `$HF_HOME/hub`, else `~/.cache/huggingface/hub`).
   * @default true
   */
  huggingFaceCache?: boolean;
  /** Models by explicit directory, id to path. Take precedence over discovered ones. */
  models?: Record<string, string>;
  /** Requests that may wait for a model while it generates; more get 429. @default 16 */
  maxWaitingPerModel?: number;
  /** Prompt tokens per prefill step (bounds the memory of long prompts). @default 512 */
  prefillChunkSize?: number;
  /** KV cache growth step, in tokens. @default 256 */
  kvCacheStep?: number;
  /** First delay before restarting a crashed worker, doubled per crash in a row. @default 250 */
  restartDelayMs?: number;
  /** Longest restart delay. @default 10000 */
  maxRestartDelayMs?: number;
  /**
   * Stop the worker when its last model is unloaded, so that the memory it held goes back to the
   * system (a process keeps native memory it once used); the next load starts a fresh worker.
   * @default true
   */
  recycleIdleWorker?: boolean;
  /** Extra environment of the worker process. */
  workerEnv?: Record<string, string>;
  /** Environment for Hugging Face cache discovery. @default process.env */
  env?: Record<string, string | undefined>;
}
