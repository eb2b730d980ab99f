/** Where a job is in its life. The last three are final. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** How far a job got. */
export interface JobProgress {
  /** Units of work done (documents read, requests answered…). */
  done: number;
  /** Units of work in all, when known. */
  total?: number;
}

/** What a running job reports. */
export interface JobProgressUpdate extends JobProgress {
  /** Counters worth showing beside the progress. @example { chunks_added: 420 } */
  detail?: Record<string, unknown>;
}

/** Where and how a job's final state is POSTed. */
export interface JobWebhook {
  /** An http(s) URL that receives the final {@link JobSnapshot} as JSON. */
  url: string;
  /**
   * Signs each delivery: `x-fusion-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"
   * with this secret>` (the same `t` is in `x-fusion-timestamp`). Never shown in snapshots.
   */
  secret?: string;
  /** More request headers. */
  headers?: Record<string, string>;
}

/** Delivery of a job's webhook, as snapshots show it. */
export interface JobWebhookStatus {
  url: string;
  /** `pending` until the job ends and the POST is answered with 2xx (`delivered`) or given up (`failed`). */
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** Why the last attempt failed. */
  error?: string;
  /** One entry per attempt, oldest first (the last 20). */
  deliveries?: WebhookDelivery[];
}

/** One attempt to deliver a webhook. */
export interface WebhookDelivery {
  attempt: number;
  /** Unix seconds, as signed. */
  at: number;
  /** The receiver's HTTP status, when it answered. */
  status_code?: number;
  /** Why the attempt failed (network error, timeout, non-2xx). */
  error?: string;
  duration_ms: number;
}

/** What a job's `run` gets. */
export interface JobContext {
  id: string;
  /** Aborts when the job is cancelled or the runner closes. */
  signal: AbortSignal;
  /** Reports progress; cheap enough to call after every unit of work. */
  progress(update: JobProgressUpdate): void;
  /**
   * Saves how far the work got (JSON), so that a job resumed after a crash skips what is done. With a
   * store, resolves once the value is written.
   */
  checkpoint(value: unknown): Promise<void>;
  /** The last checkpoint of an earlier run of this job (after a restart); `undefined` on the first. */
  saved?: unknown;
  /** 1 on the first run, 2 when the job resumed once after a restart, and so on. */
  attempt: number;
}

/**
 * The work of a kind of job, defined once with `jobs.define(kind, handler)` so that a job of that
 * kind can be created from JSON (`POST /v1/jobs`) and run again after a restart.
 */
export interface JobHandler<TInput = unknown, TResult = unknown> {
  /**
   * `false` for kinds created only in code (their input is trusted, e.g. paths already confined):
   * `POST /v1/jobs` refuses them as unknown. @default true
   */
  http?: boolean;
  /** Throws an `InvalidRequestError` for input the job cannot take, before the job is created. */
  validate?(input: unknown): TInput;
  run(input: TInput, context: JobContext): Promise<TResult>;
}

/** A job to create. */
export interface CreateJobOptions<TResult = unknown> {
  /** What the job does, shown with it. @example 'rag.ingest' */
  kind: string;
  /**
   * The work. Its resolved value becomes the job's `result` and must serialise as JSON. Without it,
   * the handler defined for `kind` runs with `input`; only such jobs resume after a restart.
   */
  run?(context: JobContext): Promise<TResult>;
  /** What the kind's handler gets (JSON). */
  input?: unknown;
  /** Creating a job again with the same key returns the first job instead of a new one. */
  idempotencyKey?: string;
  /** Total units of work, when known up front. */
  total?: number;
  /** POSTed the final snapshot when the job ends (succeeded, failed or cancelled). */
  webhook?: JobWebhook;
  /** Shown with the job. @example { collection: 'docs' } */
  metadata?: Record<string, unknown>;
  /**
   * Who the job belongs to (the `id` of the API key that created it): reads, lists and cancels that
   * name another owner do not see it. @default none: any caller sees it
   */
  owner?: string;
}

/** Whose jobs a read, list or cancel may see. */
export interface JobAccess {
  /** The caller's API key id; jobs of other owners are unknown to it. @default any job */
  owner?: string;
}

/** A job as `GET /api/jobs/{id}` shows it (the shape of OpenAI's fine-tuning and batch jobs). */
export interface JobSnapshot<TResult = unknown> {
  object: 'job';
  /** @example 'job_6f1c2b9d0e3a4c5b8a7f6e5d4c3b2a19' */
  id: string;
  kind: string;
  status: JobStatus;
  progress: JobProgress;
  detail?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Unix seconds. */
  created_at: number;
  started_at?: number;
  finished_at?: number;
  /** Runs started: more than 1 when the job resumed after a restart. */
  attempts?: number;
  /** Unix seconds after which a finished job is forgotten. */
  expires_at?: number;
  /** What `run` resolved to (succeeded jobs). */
  result?: TResult;
  /** Why it failed, in OpenAI's error shape (failed jobs). */
  error?: { message: string; type: string; code: string | null; param: string | null };
  webhook?: JobWebhookStatus;
}

/** True for the statuses a job never leaves. */
export function isFinalStatus(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}
