import type { CreateJobOptions, JobAccess, JobHandler, JobSnapshot } from './job.js';
import type { JobPage } from './job-page.js';

/** What may be awaited: runners over a shared store answer asynchronously. */
type Awaitable<TValue> = TValue | Promise<TValue>;

/**
 * A job runner as the job routes and `jobsPlugin` use it. The core's {@link JobRunner} (one process,
 * memory or a Keyv) fits; so does a runner whose jobs several processes share, such as the
 * BullMQ-backed runner `fusion serve` uses when Redis is configured.
 */
export interface JobRunnerLike {
  /** The kinds clients may create over HTTP. */
  readonly kinds: string[];
  /** Defines the work of a kind; returns its removal. */
  define<TInput, TResult>(kind: string, handler: JobHandler<TInput, TResult>): () => void;
  /** Loads (or starts taking) the jobs left unfinished; called once after the kinds are defined. */
  restore(): Promise<void>;
  /** Queues a job of a defined kind (or with a `run` function, where supported). */
  create<TResult>(options: CreateJobOptions<TResult>): Awaitable<JobSnapshot<TResult>>;
  /** The job's current state; `undefined` when unknown or forgotten. */
  get<TResult = unknown>(id: string, access?: JobAccess): Awaitable<JobSnapshot<TResult> | undefined>;
  /** Up to `limit` jobs, newest first, after the job `after`. */
  page(options?: { limit?: number; after?: string } & JobAccess): Awaitable<JobPage>;
  /** Cancels a job that is not final; answers its state, `undefined` when unknown. */
  cancel(id: string, access?: JobAccess): Awaitable<JobSnapshot | undefined>;
  /** Resolves once every change so far is stored. */
  flush(): Promise<void>;
  /** Stops taking jobs; resumable running jobs are left to resume elsewhere or after a restart. */
  close(): Promise<void>;
}
