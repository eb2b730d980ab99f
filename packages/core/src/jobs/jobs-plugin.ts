import type { PluginV1 } from '../spec/plugin/v1/plugin-v1.js';
import { chatBatchJob } from './chat-batch-job.js';
import { type JobRoutesOptions, jobRoutes } from './job-routes.js';
import type { JobRunnerLike } from './job-runner-like.js';

/** Options of {@link jobsPlugin}. */
export interface JobsPluginOptions {
  /**
   * The runner to serve: a `JobRunner` (give it a `store` for jobs that survive a restart), or any
   * runner that fits, such as one whose jobs several instances share.
   */
  jobs: JobRunnerLike;
  /** Where and how the routes are served. */
  routes?: JobRoutesOptions;
  /** Close the runner when the orchestrator closes. @default true */
  closeJobs?: boolean;
}

/**
 * Jobs over HTTP: `/v1/jobs` and `/api/jobs` (create, list, get, cancel) for a runner, with the
 * `chat.batch` kind defined on it, and the unfinished jobs of its store resumed at setup.
 *
 * @example
 * const jobs = new JobRunner({ store: new Keyv(new KeyvRedis(url)) });
 * const fusion = createFusion({ providers: [lab], plugins: [jobsPlugin({ jobs })] });
 * // POST /v1/jobs { kind: 'chat.batch', input: { requests: [...] } } -> 202 { id, status: 'queued' }
 */
export function jobsPlugin(options: JobsPluginOptions): PluginV1 {
  const { jobs } = options;
  const undo: (() => void)[] = [];
  return {
    specificationVersion: 'v1',
    name: 'jobs',
    async setup(api) {
      undo.push(
        jobs.define(
          'chat.batch',
          chatBatchJob((request, callOptions) => api.chat(request, callOptions)),
        ),
      );
      for (const [method, path, handler] of jobRoutes(jobs, options.routes)) {
        undo.push(api.route(method, path, handler));
      }
      await jobs.restore();
    },
    async teardown() {
      if (options.closeJobs !== false) await jobs.close();
      for (const done of undo.splice(0)) done();
    },
  };
}
