/**
 * The provider's health report: the worker's state, and each model's (a model that the worker
 * lost in a crash reads `loading` until it is back, one disabled after crashing it `unhealthy`).
 */
import type { HealthStatus } from '@fusionkit/core';
import type { WorkerState } from '../supervisor/worker-supervisor.js';
import type { CatalogEntry } from './model-catalog.js';

export interface MlxHealthInput {
  state: WorkerState;
  lastCrash: string | undefined;
  entries: Iterable<CatalogEntry>;
  /** Why node-mlx cannot load on this machine, once a load found out. */
  nativeFailure: string | undefined;
}

function modelStatus(entry: CatalogEntry): 'ready' | 'loading' | 'unhealthy' {
  if (entry.state === 'failed') return 'unhealthy';
  return entry.state === 'loading' || entry.restore ? 'loading' : 'ready';
}

export function mlxHealth(input: MlxHealthInput): HealthStatus {
  const { state } = input;
  const models: Record<string, 'ready' | 'loading' | 'unhealthy'> = {};
  let queueDepth = 0;
  let running = 0;
  for (const entry of input.entries) {
    if (!entry.manifest) continue;
    models[entry.id] = modelStatus(entry);
    queueDepth += entry.queue.waiting;
    running += entry.queue.running;
  }
  const status: HealthStatus = {
    status:
      state === 'closed' ? 'unhealthy' : state === 'restarting' || state === 'starting' ? 'loading' : 'ready',
    models,
    queueDepth,
    running,
  };
  if (state === 'restarting' && input.lastCrash) status.message = input.lastCrash;
  // No model can load on this machine until a package is installed: say so, and what to install.
  if (input.nativeFailure !== undefined) {
    status.status = 'unhealthy';
    status.message = input.nativeFailure;
  }
  return status;
}
