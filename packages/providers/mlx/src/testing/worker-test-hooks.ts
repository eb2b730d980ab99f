/**
 * Test hooks of the worker: crash it on purpose to check that the provider survives. They work
 * only when the provider's worker runs with `FUSIONKIT_MLX_TEST_HOOKS=1` in `workerEnv`.
 */
import type { MlxProvider } from '../provider/mlx-provider.js';

/** The provider method behind the hooks below; not part of the public API. */
export const WORKER_DEBUG = Symbol.for('@fusionkit/mlx/worker-debug');

/** What the provider's debug method does: crash the worker now, or arm a crash for later. */
export type WorkerDebugAction =
  | { action: 'native-abort' | 'abort' | 'exit' }
  | { action: 'crash-loads' | 'crash-starts'; count: number };

type DebugMethod = (action: WorkerDebugAction) => Promise<unknown>;

function debugOf(provider: MlxProvider): DebugMethod {
  const debug = (provider as unknown as Record<symbol, DebugMethod | undefined>)[WORKER_DEBUG];
  if (!debug) throw new Error('Not an MLX provider.');
  return debug.bind(provider);
}

/**
 * Makes the worker die: `native-abort` runs a float16 matmul (unsupported on CPU: MLX aborts
 * during evaluation, as a real model bug would), `abort` calls `process.abort()`, `exit` exits.
 * Resolves when the crash has been noticed.
 */
export async function crashWorker(
  provider: MlxProvider,
  action: 'native-abort' | 'abort' | 'exit' = 'native-abort',
): Promise<void> {
  await debugOf(provider)({ action }).catch(() => {});
}

/**
 * Makes the next `count` model loads crash the worker natively while loading, the reloads after a
 * restart included (a model whose weights abort MLX).
 */
export async function crashNextLoads(provider: MlxProvider, count = 1): Promise<void> {
  await debugOf(provider)({ action: 'crash-loads', count });
}

/** Makes the next `count` workers started exit before they take a command. */
export async function crashNextStarts(provider: MlxProvider, count = 1): Promise<void> {
  await debugOf(provider)({ action: 'crash-starts', count });
}
