import { AbortedError } from '../errors/aborted-error.js';
import { QueueFullError } from '../errors/queue-full-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import { deliverWebhook } from './deliver-webhook.js';
import {
  type CreateJobOptions,
  isFinalStatus,
  type JobProgressUpdate,
  type JobSnapshot,
  type JobStatus,
  type JobWebhook,
  type JobWebhookStatus,
} from './job.js';

/** Options of {@link JobRunner}. */
export interface JobRunnerOptions {
  /** Jobs running at once; the others wait in order. @default 1 */
  concurrency?: number;
  /** How long a finished job stays readable, ms. @default 3_600_000 (one hour) */
  ttlMs?: number;
  /** Finished jobs kept at most; the oldest are forgotten first. @default 1000 */
  maxFinished?: number;
  /** Jobs that may wait for a slot; more are refused with 429. @default 1000 */
  maxQueued?: number;
  /** Sends webhooks. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time allowed to one webhook attempt, ms. @default 10_000 */
  webhookTimeoutMs?: number;
  /** Webhook attempts in all. @default 3 */
  webhookAttempts?: number;
  /** Wait before the second webhook attempt, doubled after each, ms. @default 1000 */
  webhookRetryDelayMs?: number;
  /** The clock, for tests. @default Date.now */
  now?: () => number;
}

/** A job while the runner holds it. */
interface JobEntry {
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
}

function newJobId(): string {
  return `job_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** A deep-enough copy that callers cannot change the runner's state through a snapshot. */
function copy(snapshot: JobSnapshot): JobSnapshot {
  const result: JobSnapshot = { ...snapshot, progress: { ...snapshot.progress } };
  if (snapshot.detail) result.detail = { ...snapshot.detail };
  if (snapshot.webhook) result.webhook = { ...snapshot.webhook };
  return result;
}

/**
 * A small in-process job runner: long work (an ingest of thousands of documents) runs in the
 * background while the client polls `GET /api/jobs/{id}` or waits for a webhook. Jobs run in order,
 * `concurrency` at a time; each gets an `AbortSignal` that fires on cancel; finished jobs stay
 * readable for `ttlMs`. Uses only `fetch`, Web Crypto and timers, so it runs wherever the core does.
 * State lives in memory: jobs do not survive a restart of the process.
 *
 * @example
 * const jobs = new JobRunner();
 * const job = jobs.create({ kind: 'report', run: async ({ signal, progress }) => { progress({ done: 1, total: 1 }); return 'ok'; } });
 * (await jobs.wait(job.id)).status; // 'succeeded'
 */
export class JobRunner {
  readonly #jobs = new Map<string, JobEntry>();
  readonly #queue: JobEntry[] = [];
  readonly #listeners = new Set<(snapshot: JobSnapshot) => void>();
  readonly #deliveries = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  readonly #concurrency: number;
  readonly #ttlMs: number;
  readonly #maxFinished: number;
  readonly #maxQueued: number;
  readonly #options: JobRunnerOptions;
  readonly #now: () => number;
  #running = 0;

  constructor(options: JobRunnerOptions = {}) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    this.#maxFinished = Math.max(0, options.maxFinished ?? 1000);
    this.#maxQueued = Math.max(0, options.maxQueued ?? 1000);
    this.#now = options.now ?? Date.now;
  }

  /** Queues a job and returns its first snapshot (`queued`, or `running` when a slot was free). */
  create<TResult>(options: CreateJobOptions<TResult>): JobSnapshot<TResult> {
    if (this.#closing.signal.aborted) throw new AbortedError('The job runner is closed.');
    this.#prune();
    if (this.#queue.length >= this.#maxQueued) {
      throw new QueueFullError(`${this.#queue.length} jobs are waiting already; try again later.`, {
        retryAfterMs: 5000,
      });
    }
    const snapshot: JobSnapshot = {
      object: 'job',
      id: newJobId(),
      kind: options.kind,
      status: 'queued',
      progress: { done: 0, ...(options.total === undefined ? {} : { total: options.total }) },
      created_at: seconds(this.#now()),
    };
    if (options.metadata) snapshot.metadata = options.metadata;
    if (options.webhook) snapshot.webhook = { url: options.webhook.url, status: 'pending', attempts: 0 };
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const entry: JobEntry = {
      snapshot,
      options: options as CreateJobOptions,
      controller: new AbortController(),
      settled,
      settle,
      ...(options.webhook ? { webhook: options.webhook } : {}),
    };
    this.#jobs.set(snapshot.id, entry);
    this.#queue.push(entry);
    this.#emit(entry);
    this.#pump();
    return copy(snapshot) as JobSnapshot<TResult>;
  }

  /** The job's current state; `undefined` when unknown or forgotten. */
  get<TResult = unknown>(id: string): JobSnapshot<TResult> | undefined {
    this.#prune();
    const entry = this.#jobs.get(id);
    return entry ? (copy(entry.snapshot) as JobSnapshot<TResult>) : undefined;
  }

  /** Every job held, newest first. */
  list(): JobSnapshot[] {
    this.#prune();
    return [...this.#jobs.values()].reverse().map((entry) => copy(entry.snapshot));
  }

  /**
   * Cancels a job: a queued job never starts, a running one has its signal aborted. Either is
   * `cancelled` at once (a running job may have finished part of its work, as its kind describes).
   * A finished job is left as it is. Returns the job's state, `undefined` when unknown.
   */
  cancel(id: string): JobSnapshot | undefined {
    const entry = this.#jobs.get(id);
    if (!entry) return undefined;
    if (!isFinalStatus(entry.snapshot.status)) {
      const index = this.#queue.indexOf(entry);
      if (index >= 0) this.#queue.splice(index, 1);
      entry.controller.abort(new AbortedError('The job was cancelled.', { code: 'job_cancelled' }));
      this.#finish(entry, 'cancelled');
    }
    return copy(entry.snapshot);
  }

  /** Resolves with the job's state once it is final (webhook delivery is not waited for). */
  async wait<TResult = unknown>(id: string): Promise<JobSnapshot<TResult> | undefined> {
    const entry = this.#jobs.get(id);
    if (!entry) return undefined;
    await entry.settled;
    return copy(entry.snapshot) as JobSnapshot<TResult>;
  }

  /** Calls `listener` with a snapshot after every change (created, started, progress, finished). */
  subscribe(listener: (snapshot: JobSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Jobs queued and running now. */
  get active(): { queued: number; running: number } {
    return { queued: this.#queue.length, running: this.#running };
  }

  /** Cancels every queued and running job, waits for their `run` to return, and stops webhooks. */
  async close(): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const entry of this.#jobs.values()) {
      if (!isFinalStatus(entry.snapshot.status)) this.cancel(entry.snapshot.id);
      if (entry.stopped) stopping.push(entry.stopped);
    }
    await Promise.all(stopping);
    this.#closing.abort();
    await Promise.all(this.#deliveries);
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#queue.length > 0) {
      const entry = this.#queue.shift()!;
      this.#running++;
      entry.stopped = this.#run(entry).finally(() => {
        this.#running--;
        this.#pump();
      });
    }
  }

  async #run(entry: JobEntry): Promise<void> {
    const { snapshot, controller } = entry;
    snapshot.status = 'running';
    snapshot.started_at = seconds(this.#now());
    this.#emit(entry);
    const progress = (update: JobProgressUpdate) => {
      if (isFinalStatus(snapshot.status)) return;
      const total = update.total ?? snapshot.progress.total;
      snapshot.progress = total === undefined ? { done: update.done } : { done: update.done, total };
      if (update.detail) snapshot.detail = update.detail;
      this.#emit(entry);
    };
    try {
      const result = await entry.options.run({ id: snapshot.id, signal: controller.signal, progress });
      if (isFinalStatus(snapshot.status)) return;
      snapshot.result = result;
      this.#finish(entry, 'succeeded');
    } catch (error) {
      if (isFinalStatus(snapshot.status)) return;
      if (controller.signal.aborted) {
        this.#finish(entry, 'cancelled');
        return;
      }
      snapshot.error = toFusionError(error).toJSON().error;
      this.#finish(entry, 'failed');
    }
  }

  #finish(entry: JobEntry, status: JobStatus): void {
    const { snapshot } = entry;
    snapshot.status = status;
    entry.finishedAtMs = this.#now();
    snapshot.finished_at = seconds(entry.finishedAtMs);
    snapshot.expires_at = seconds(entry.finishedAtMs + this.#ttlMs);
    this.#emit(entry);
    entry.settle();
    if (entry.webhook && snapshot.webhook) this.#deliver(entry.webhook, snapshot, snapshot.webhook);
  }

  #deliver(webhook: JobWebhook, snapshot: JobSnapshot, status: JobWebhookStatus): void {
    const delivery = deliverWebhook(webhook, copy(snapshot), status, {
      fetch: this.#options.fetch ?? globalThis.fetch,
      timeoutMs: this.#options.webhookTimeoutMs ?? 10_000,
      attempts: Math.max(1, this.#options.webhookAttempts ?? 3),
      retryDelayMs: this.#options.webhookRetryDelayMs ?? 1000,
      signal: this.#closing.signal,
    });
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
  }

  #emit(entry: JobEntry): void {
    if (this.#listeners.size === 0) return;
    const snapshot = copy(entry.snapshot);
    for (const listener of this.#listeners) {
      try {
        listener(snapshot);
      } catch {
        // An observer's failure must not fail the job.
      }
    }
  }

  /** Forgets finished jobs past their TTL, and the oldest beyond `maxFinished`. */
  #prune(): void {
    const now = this.#now();
    const finished: JobEntry[] = [];
    for (const [id, entry] of this.#jobs) {
      if (entry.finishedAtMs === undefined) continue;
      if (now - entry.finishedAtMs >= this.#ttlMs) this.#jobs.delete(id);
      else finished.push(entry);
    }
    const excess = finished.length - this.#maxFinished;
    if (excess > 0) {
      finished.sort((left, right) => left.finishedAtMs! - right.finishedAtMs!);
      for (const entry of finished.slice(0, excess)) this.#jobs.delete(entry.snapshot.id);
    }
  }
}
