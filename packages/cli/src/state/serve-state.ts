import {
  type FusionOptions,
  JobRunner,
  type JobRunnerLike,
  jobsPlugin,
  type KeyvLike,
  type PluginV1,
  type RateLimiterLike,
  type TraceStoreOptions,
} from '@fusionkit/core';
import type { McpSessionRecord } from '@fusionkit/mcp';
import type { CliContext } from '../commands/cli-context.js';
import { webhookGuard } from '../commands/webhook-guard.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { jobsWithLocal } from '../jobs/jobs-with-local.js';
import { openState } from './open-state.js';
import { SharedRateLimiter } from './shared-rate-limiter.js';
import { statePlugin } from './state-plugin.js';

/**
 * The state `fusion serve` runs with (SQLite under `.fusion/` by default, Redis or memory on
 * request): the Keyv its traces go to, where the Responses API keeps responses (background ones run
 * as durable jobs), and the plugins that serve durable jobs on it and close it.
 */
export async function openServeState(
  context: CliContext,
  config: ResolvedConfig,
): Promise<{
  plugins: PluginV1[];
  traces: TraceStoreOptions['keyv'];
  responses: NonNullable<FusionOptions['responses']>;
  jobs: JobRunnerLike;
  /** The runner of the default RAG plugin's ingests (its jobs are served by the server's job routes). */
  rag: { jobs: JobRunner; jobRoutes: boolean };
  limiter: RateLimiterLike;
  /** Where `/mcp` records its sessions (config `mcp.sessions`), shared by instances on one Redis. */
  mcpSessions: KeyvLike<McpSessionRecord>;
}> {
  const logError = (error: unknown) => context.log(`state error: ${(error as Error)?.message ?? error}`);
  const state = await openState({
    cwd: context.cwd,
    env: context.env,
    ...(config.state ? { state: config.state } : {}),
    ...(config.redis ? { redis: config.redis } : {}),
    onError: logError,
  });
  context.log(`state: ${state.description}`);
  const guard = webhookGuard(context.env);
  // On Redis every instance shares the jobs (BullMQ hands each to one under a lease); else one
  // process owns them in its SQLite file.
  const redis = context.env.FUSION_REDIS_URL || config.redis;
  const concurrency = Number(context.env.FUSION_JOBS_CONCURRENCY || config.jobs?.concurrency || 1);
  // BullMQ and ioredis are loaded only for Redis: a server without it does not carry them (~20 MB).
  const jobs: JobRunnerLike = redis
    ? new (await import('../jobs/shared-job-runner.js')).SharedJobRunner({
        url: redis,
        prefix: context.env.FUSION_REDIS_PREFIX || 'fusion',
        fetch: guard.fetch,
        onError: logError,
        concurrency,
        ...(context.env.FUSION_JOBS_LEASE_MS ? { lockMs: Number(context.env.FUSION_JOBS_LEASE_MS) } : {}),
      })
    : new JobRunner({
        store: state.keyv('jobs', { strict: true }),
        onStoreError: logError,
        fetch: guard.fetch,
        concurrency,
      });
  // Per-key limits: counted in Redis, so that every instance sees the same counts.
  const limits = redis
    ? new (await import('ioredis')).Redis(redis, { connectTimeout: 5000, maxRetriesPerRequest: 3 })
    : undefined;
  limits?.on('error', logError);
  const limiter = new SharedRateLimiter({
    ...(limits ? { redis: limits } : {}),
    prefix: `${context.env.FUSION_REDIS_PREFIX || 'fusion'}:limits`,
  });
  // RAG ingests (some carry uploaded bytes, run in this process) stay on a runner of this instance:
  // the server's, or with shared jobs one of their own, whose jobs the job routes also find.
  const ragJobs =
    jobs instanceof JobRunner
      ? jobs
      : new JobRunner({
          store: state.keyv('rag-jobs', { strict: true }),
          onStoreError: logError,
          fetch: guard.fetch,
        });
  // A RAG plugin of the config serves /api/jobs for its own runner already.
  const ragMounted = config.plugins?.some((plugin) => plugin.name === 'rag');
  const served = ragJobs === jobs ? jobs : jobsWithLocal(jobs, ragJobs);
  return {
    jobs,
    rag: { jobs: ragJobs, jobRoutes: false },
    traces: state.keyv('traces'),
    responses: { keyv: state.keyv('responses'), jobs },
    limiter,
    mcpSessions: state.keyv<McpSessionRecord>('mcp-sessions'),
    plugins: [
      ...(limits
        ? [
            {
              specificationVersion: 'v1' as const,
              name: 'rate-limits',
              setup() {},
              async teardown() {
                await limits.quit().catch(() => undefined);
              },
            },
          ]
        : []),
      // First, so that it is torn down last, after the jobs wrote their last changes.
      statePlugin(state),
      ...(ragJobs !== jobs
        ? [
            {
              specificationVersion: 'v1' as const,
              name: 'rag-jobs',
              setup() {},
              async teardown() {
                await ragJobs.close();
              },
            },
          ]
        : []),
      jobsPlugin({
        jobs: served,
        routes: {
          prefixes: ragMounted ? ['/v1/jobs'] : ['/v1/jobs', '/api/jobs'],
          checkWebhookUrl: guard.checkWebhookUrl,
        },
      }),
    ],
  };
}
