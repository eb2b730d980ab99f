/**
 * Test hooks of the worker: crash it on purpose to check that the provider survives. They work
 * only when the provider's worker runs with `FUSIONKIT_MLX_TEST_HOOKS=1` in `workerEnv`.
 */
import type { MlxProvider } from '../provider/create-mlx-provider.js';

/** The provider method behind {@link crashWorker}; not part of the public API. */
export const WORKER_DEBUG = Symbol.for('@fusionkit/mlx/worker-debug');

/**
 * Makes the worker die: `native-abort` runs a float16 matmul (unsupported on CPU: MLX aborts
 * during evaluation, as a real model bug would), `abort` calls `process.abort()`, `exit` exits.
 * Resolves when the crash has been noticed.
 */
export async function crashWorker(
  provider: MlxProvider,
  action: 'native-abort' | 'abort' | 'exit' = 'native-abort',
): Promise<void> {
  const debug = (provider as unknown as Record<symbol, (action: string) => Promise<unknown>>)[WORKER_DEBUG];
  if (!debug) throw new Error('Not an MLX provider.');
  await debug.call(provider, action).catch(() => {});
}
