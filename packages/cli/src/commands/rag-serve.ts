import { resolve } from 'node:path';
import type { JobRunner, PluginV1 } from '@fusionkit/core';
import type { RagFusion, RagLoadStatus } from '@fusionkit/rag';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { CliContext } from './cli-context.js';
import { lazyPlugin } from './lazy-plugin.js';

/**
 * The state folder of the collections `fusion ingest` writes and `fusion serve` serves (they live in
 * `<dir>/rag/<name>`): `FUSION_RAG_DIR`, else the config's `rag.dir`, else `.fusion`, from the
 * working directory.
 */
export function ragStateDirectory(
  context: Pick<CliContext, 'cwd' | 'env'>,
  config?: Pick<ResolvedConfig, 'rag'>,
): string {
  const fromConfig = config?.rag ? config.rag.dir : undefined;
  return resolve(context.cwd, context.env.FUSION_RAG_DIR || fromConfig || '.fusion');
}

/**
 * The RAG plugin `fusion serve` mounts by default: the collections of the state folder at
 * `/api/rag/*` and, with `rag.generator`, as `rag/<collection>` models, loaded at start in the
 * background (`GET /api/rag/status` tells when) unless `rag.load` is `'lazy'`. Its ingests run as
 * jobs of the server's durable runner. None when the config says `rag: false` or mounts its own.
 */
export function defaultRagPlugin(
  context: Pick<CliContext, 'cwd' | 'env'>,
  config: ResolvedConfig,
  options: {
    jobs: JobRunner;
    /** Whether the plugin serves `/api/jobs` for `jobs` (else the server's jobs plugin does). */
    jobRoutes?: boolean;
    fusion: () => RagFusion | undefined;
    /** Called once the collections found at start are loaded. */
    onLoaded?: (status: RagLoadStatus) => void;
  },
): PluginV1 | undefined {
  if (config.rag === false || config.plugins?.some((plugin) => plugin.name === 'rag')) return undefined;
  const rag = config.rag ?? {};
  const dir = ragStateDirectory(context, config);
  return lazyPlugin('rag', async () => {
    const plugin = (await import('@fusionkit/rag')).ragPlugin({
      dir,
      fusion: options.fusion,
      jobs: options.jobs,
      // The server's jobs plugin serves /api/jobs for this runner, unless it is the plugin's own.
      jobRoutes: options.jobRoutes ?? false,
      load: rag.load ?? 'startup',
      ...(rag.roots ? { roots: rag.roots.map((root) => resolve(context.cwd, root)) } : {}),
      ...(rag.embeddingModel ? { embeddingModel: rag.embeddingModel } : {}),
      ...(rag.generator ? { generator: rag.generator } : {}),
      ...(rag.rewrite ? { answer: { rewrite: true } } : {}),
    });
    if (options.onLoaded) void plugin.loaded.then(options.onLoaded);
    return plugin;
  });
}
