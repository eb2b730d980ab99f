/**
 * Jobs: long work (an ingest, a large fusion run) in the background of one process, with status,
 * progress, result, cancel and a webhook when it ends.
 * @module
 */
export {
  type CreateJobOptions,
  isFinalStatus,
  type JobContext,
  type JobProgress,
  type JobProgressUpdate,
  type JobSnapshot,
  type JobStatus,
  type JobWebhook,
  type JobWebhookStatus,
} from './job.js';
export { jobRoutes } from './job-routes.js';
export { JobRunner, type JobRunnerOptions } from './job-runner.js';
