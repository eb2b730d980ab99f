import type { JobAccess, JobHandler, JobPage, JobRunner, JobRunnerLike, JobSnapshot } from '@fusionkit/core';

/**
 * The jobs `fusion serve` answers for when they are shared on Redis: the shared runner's, and those
 * of a runner of this instance (RAG ingests, some of which carry uploaded bytes and can only run
 * where they arrived). A job id is looked up in the shared runner first, then here; new jobs and
 * lists are the shared runner's.
 */
export function jobsWithLocal(shared: JobRunnerLike, local: JobRunner): JobRunnerLike {
  return {
    get kinds() {
      return shared.kinds;
    },
    define<TInput, TResult>(kind: string, handler: JobHandler<TInput, TResult>) {
      return shared.define(kind, handler);
    },
    restore: () => shared.restore(),
    create: (options) => shared.create(options),
    async get<TResult = unknown>(id: string, access?: JobAccess): Promise<JobSnapshot<TResult> | undefined> {
      return (await shared.get<TResult>(id, access)) ?? local.get<TResult>(id, access);
    },
    page: (options): Promise<JobPage> | JobPage => shared.page(options),
    async cancel(id: string, access?: JobAccess): Promise<JobSnapshot | undefined> {
      return (await shared.cancel(id, access)) ?? local.cancel(id, access);
    },
    async flush() {
      await Promise.all([shared.flush(), local.flush()]);
    },
    // The local runner is closed by its own plugin.
    close: () => shared.close(),
  };
}
