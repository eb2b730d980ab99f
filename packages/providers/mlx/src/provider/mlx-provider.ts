/** The MLX provider's public shape: a {@link ProviderV1} that also reports its worker. */
import type { ProviderV1 } from '@fusionkit/core';
import type { WorkerState } from '../supervisor/worker-supervisor.js';
import type { MemoryReport } from '../worker/protocol.js';
import type { SkippedModel } from './model-catalog.js';

/** The state of the worker process, for monitoring. */
export interface MlxWorkerStatus {
  state: WorkerState;
  pid: number | undefined;
  restarts: number;
  /** Idle workers stopped on purpose to give their memory back (see `recycleIdleWorker`). */
  recycles: number;
  lastCrash: string | undefined;
}

/** An MLX provider: a {@link ProviderV1} that also reports its worker and what it skipped. */
export interface MlxProvider extends ProviderV1 {
  load(model: string, options?: { signal?: AbortSignal }): Promise<void>;
  unload(model: string): Promise<void>;
  memoryBytes(model: string): number | undefined;
  close(): Promise<void>;
  /** Model directories found but not servable, with the reason. */
  skippedModels(): SkippedModel[];
  /**
   * Where each model's directory is, by model id: for the operator (logs, diagnostics). Clients do
   * not see it: `/v1/models` leaves local paths out.
   */
  modelDirectories(): Record<string, string>;
  /** The worker process. */
  workerStatus(): MlxWorkerStatus;
  /** The worker's memory: its RSS and, per loaded model, weights and KV cache bytes. */
  memoryReport(): Promise<MemoryReport>;
  /**
   * Calls `listener` when model directories appear, change or go away (checked every
   * `intervalMs`), or when a model stops being loaded without `unload` (the worker crashed and
   * reloading it failed), e.g. to refresh the orchestrator's registry. Returns the function that
   * stops it.
   * @example mlx.watchModels(() => void fusion.registry.refresh(mlx.id))
   */
  watchModels(listener: () => void, options?: { intervalMs?: number }): () => void;
}
