/**
 * Jobs: long work (an ingest, a large fusion run) in the background of one process, with status,
 * progress, result, cancel and a webhook when it ends.
 * @module
 */

export { type ChatBatchInput, type ChatBatchItem, chatBatchJob } from './chat-batch-job.js';
export {
  type CreateJobOptions,
  isFinalStatus,
  type JobAccess,
  type JobContext,
  type JobHandler,
  type JobProgress,
  type JobProgressUpdate,
  type JobSnapshot,
  type JobStatus,
  type JobWebhook,
  type JobWebhookStatus,
} from './job.js';
export { type JobRoutesOptions, jobRoutes } from './job-routes.js';
export { type JobPage, JobRunner, type JobRunnerOptions } from './job-runner.js';
export type { JobRunnerLike } from './job-runner-like.js';
export type { JobRecord } from './job-store.js';
export { type JobsPluginOptions, jobsPlugin } from './jobs-plugin.js';
export type { JobRequest } from './parse-job-request.js';
