import type { CreateJobOptions, JobSnapshot, JobWebhook } from './job.js';

/** A job while the runner holds it. */
export interface JobEntry {
  snapshot: JobSnapshot;
  options: CreateJobOptions;
  controller: AbortController;
  finishedAtMs?: number;
  /** Settles when the job reaches a final status. */
  settled: Promise<void>;
  settle: () => void;
  /** Settles when `run` itself has returned or thrown (later than `settled` for a cancelled job). */
  stopped?: Promise<void>;
  webhook?: JobWebhook;
  input?: unknown;
  checkpoint?: unknown;
  idempotencyKey?: string;
}

export function newJobId(): string {
  return `job_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
}

export function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** A deep-enough copy that callers cannot change the runner's state through a snapshot. */
export function copy(snapshot: JobSnapshot): JobSnapshot {
  const result: JobSnapshot = { ...snapshot, progress: { ...snapshot.progress } };
  if (snapshot.detail) result.detail = { ...snapshot.detail };
  if (snapshot.webhook) {
    const { deliveries, ...webhook } = snapshot.webhook;
    result.webhook = deliveries
      ? { ...webhook, deliveries: deliveries.map((entry) => ({ ...entry })) }
      : webhook;
  }
  return result;
}
