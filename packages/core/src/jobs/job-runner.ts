import { AbortedError } from '../errors/aborted-error.js';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { QueueFullError } from '../errors/queue-full-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import { deliverWebhook } from './deliver-webhook.js';
import {
  type CreateJobOptions,
  isFinalStatus,
  type JobAccess,
  type JobContext,
  type JobHandler,
  type JobProgressUpdate,
  type JobSnapshot,
  type JobStatus,
} from './job.js';
import { copy, type JobEntry, newJobId, seconds } from './job-entry.js';
import { type JobPage, pageOf } from './job-page.js';
import type { JobRunnerOptions } from './job-runner-options.js';
import { type JobRecord, JobStore } from './job-store.js';

export type { JobPage, JobRunnerOptions };

/**
 * An in-process job runner: long work (an ingest of thousands of documents, a batch of chats) runs
 * in the background while the client polls `GET /v1/jobs/{id}` or waits for a webhook. Jobs run in
 * order, `concurrency` at a time; each gets an `AbortSignal` that fires on cancel; finished jobs stay
 * readable for `ttlMs`. Uses only `fetch`, Web Crypto and timers, so it runs wherever the core does.
 * Without a `store`, jobs live in memory; with one, every change is written through, and after a
 * crash `restore()` runs the unfinished jobs of defined kinds again (from their last checkpoint).
 *
 * @example
 * const jobs = new JobRunner();
 * const job = jobs.create({ kind: 'report', run: async ({ signal, progress }) => { progress({ done: 1, total: 1 }); return 'ok'; } });
 * (await jobs.wait(job.id)).status; // 'succeeded'
 */
export class JobRunner {
  readonly #jobs = new Map<string, JobEntry>();
  readonly #queue: JobEntry[] = [];
  readonly #handlers = new Map<string, JobHandler>();
  readonly #idempotency = new Map<string, string>();
  /** Restored unfinished jobs whose kind is not defined yet, by kind. */
  readonly #waiting = new Map<string, JobEntry[]>();
  #restored: Promise<void> | undefined;
  readonly #listeners = new Set<(snapshot: JobSnapshot) => void>();
  readonly #deliveries = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  readonly #store: JobStore | undefined;
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
    if (options.store) {
      this.#store = new JobStore(options.store, {
        ...(options.storePrefix ? { prefix: options.storePrefix } : {}),
        ...(options.onStoreError ? { onError: options.onStoreError } : {}),
      });
    }
  }

  /** True when jobs are kept in a store and survive a restart. */
  get durable(): boolean {
    return this.#store !== undefined;
  }

  /** Defines the work of a kind of job: jobs of this kind are created with `input` and can resume. */
  define<TInput, TResult>(kind: string, handler: JobHandler<TInput, TResult>): () => void {
    this.#handlers.set(kind, handler as JobHandler);
    // Restored jobs of this kind were waiting for it.
    const waiting = this.#waiting.get(kind);
    if (waiting) {
      this.#waiting.delete(kind);
      for (const entry of waiting) if (!isFinalStatus(entry.snapshot.status)) this.#queue.push(entry);
      this.#pump();
    }
    return () => {
      if (this.#handlers.get(kind) === handler) this.#handlers.delete(kind);
    };
  }

  /** The kinds defined with `define` that clients may create over HTTP. */
  get kinds(): string[] {
    return [...this.#handlers].filter(([, handler]) => handler.http !== false).map(([kind]) => kind);
  }

  /**
   * Loads the jobs of the store once (later calls wait for the first): finished ones stay readable;
   * unfinished ones (cut off by a crash or a restart) are queued again, those of a kind not defined
   * yet as soon as it is; jobs of a `run` function fail with `job_interrupted`. Call it before `create`.
   */
  restore(): Promise<void> {
    this.#restored ??= this.#restore();
    return this.#restored;
  }

  async #restore(): Promise<void> {
    if (!this.#store) return;
    for (const record of await this.#store.load()) {
      if (this.#jobs.has(record.snapshot.id)) continue;
      const entry = this.#entry(record.snapshot, {
        kind: record.snapshot.kind,
        ...(record.input === undefined ? {} : { input: record.input }),
        ...(record.webhook ? { webhook: record.webhook } : {}),
        ...(record.idempotencyKey ? { idempotencyKey: record.idempotencyKey } : {}),
        ...(record.owner === undefined ? {} : { owner: record.owner }),
      });
      if (record.checkpoint !== undefined) entry.checkpoint = record.checkpoint;
      const { snapshot } = entry;
      if (isFinalStatus(snapshot.status)) {
        entry.finishedAtMs = (snapshot.finished_at ?? snapshot.created_at) * 1000;
        entry.settle();
        if (entry.webhook && snapshot.webhook?.status === 'pending') this.#deliver(entry);
      } else if (record.resumable) {
        snapshot.status = 'queued';
        if (this.#handlers.has(snapshot.kind)) this.#queue.push(entry);
        else this.#waiting.set(snapshot.kind, [...(this.#waiting.get(snapshot.kind) ?? []), entry]);
      } else {
        snapshot.error = new AbortedError('The process running the job stopped, and the job cannot resume.', {
          code: 'job_interrupted',
        }).toJSON().error;
        this.#finish(entry, 'failed');
      }
    }
    this.#prune();
    this.#pump();
  }

  /** Queues a job and returns its first snapshot (`queued`, or `running` when a slot was free). */
  create<TResult>(options: CreateJobOptions<TResult>): JobSnapshot<TResult> {
    if (this.#closing.signal.aborted) throw new AbortedError('The job runner is closed.');
    this.#prune();
    if (options.idempotencyKey !== undefined) {
      const known = this.#jobs.get(this.#idempotency.get(idempotencyOf(options)!) ?? '');
      if (known) return copy(known.snapshot) as JobSnapshot<TResult>;
    }
    const handler = this.#handlers.get(options.kind);
    if (!options.run && !handler) {
      throw new InvalidRequestError(
        `No job kind '${options.kind}'; known kinds: ${this.kinds.join(', ') || 'none'}.`,
        { code: 'unknown_job_kind', param: 'kind' },
      );
    }
    const input = !options.run && handler?.validate ? handler.validate(options.input) : options.input;
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
    const entry = this.#entry(snapshot, {
      ...(options as CreateJobOptions),
      ...(input === undefined ? {} : { input }),
    });
    this.#queue.push(entry);
    this.#emit(entry);
    this.#pump();
    return copy(snapshot) as JobSnapshot<TResult>;
  }

  /** The job's current state; `undefined` when unknown or forgotten. */
  get<TResult = unknown>(id: string, access: JobAccess = {}): JobSnapshot<TResult> | undefined {
    this.#prune();
    const entry = this.#entryFor(id, access);
    return entry ? (copy(entry.snapshot) as JobSnapshot<TResult>) : undefined;
  }

  /** Every job held (of `access.owner`, when given), newest first. */
  list(access: JobAccess = {}): JobSnapshot[] {
    this.#prune();
    return [...this.#jobs.values()]
      .filter((entry) => visible(entry, access))
      .reverse()
      .map((entry) => copy(entry.snapshot));
  }

  /** Up to `limit` jobs, newest first, after the job `after` (the `last_id` of the previous page). */
  page(options: { limit?: number; after?: string } & JobAccess = {}): JobPage {
    return pageOf(this.list(options), options);
  }

  /**
   * Cancels a job: a queued job never starts, a running one has its signal aborted. Either is
   * `cancelled` at once (a running job may have finished part of its work, as its kind describes).
   * A finished job is left as it is. Returns the job's state, `undefined` when unknown.
   */
  cancel(id: string, access: JobAccess = {}): JobSnapshot | undefined {
    const entry = this.#entryFor(id, access);
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

  /** Resolves once every change so far is in the store (at once without a store). */
  async flush(): Promise<void> {
    await this.#store?.flush();
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

  /**
   * Stops: cancels every queued and running job, waits for their `run` to return, and stops
   * webhooks. With a store, resumable jobs are left unfinished instead, to run again after a restart.
   */
  async close(): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const entry of this.#jobs.values()) {
      if (!isFinalStatus(entry.snapshot.status)) {
        if (this.#resumable(entry)) {
          const index = this.#queue.indexOf(entry);
          if (index >= 0) this.#queue.splice(index, 1);
          entry.controller.abort(new AbortedError('The job runner is closing.', { code: 'job_interrupted' }));
        } else this.cancel(entry.snapshot.id);
      }
      if (entry.stopped) stopping.push(entry.stopped);
    }
    await Promise.all(stopping);
    this.#closing.abort();
    await Promise.all(this.#deliveries);
    await this.flush();
  }

  #entryFor(id: string, access: JobAccess): JobEntry | undefined {
    const entry = this.#jobs.get(id);
    return entry && visible(entry, access) ? entry : undefined;
  }

  #resumable(entry: JobEntry): boolean {
    return this.#store !== undefined && !entry.options.run;
  }

  #entry(snapshot: JobSnapshot, options: CreateJobOptions): JobEntry {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const entry: JobEntry = {
      snapshot,
      options,
      controller: new AbortController(),
      settled,
      settle,
      ...(options.webhook ? { webhook: options.webhook } : {}),
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    };
    this.#jobs.set(snapshot.id, entry);
    if (options.idempotencyKey !== undefined) this.#idempotency.set(idempotencyOf(options)!, snapshot.id);
    return entry;
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
    snapshot.attempts = (snapshot.attempts ?? 0) + 1;
    this.#emit(entry);
    const context: JobContext = {
      id: snapshot.id,
      signal: controller.signal,
      attempt: snapshot.attempts,
      ...(entry.checkpoint === undefined ? {} : { saved: entry.checkpoint }),
      progress: (update: JobProgressUpdate) => {
        if (isFinalStatus(snapshot.status)) return;
        const total = update.total ?? snapshot.progress.total;
        snapshot.progress = total === undefined ? { done: update.done } : { done: update.done, total };
        if (update.detail) snapshot.detail = update.detail;
        this.#emit(entry);
      },
      checkpoint: async (value: unknown) => {
        if (isFinalStatus(snapshot.status)) return;
        entry.checkpoint = value;
        this.#emit(entry);
        await this.flush();
      },
    };
    try {
      const handler = this.#handlers.get(snapshot.kind);
      const result = entry.options.run
        ? await entry.options.run(context)
        : await handler!.run(entry.input, context);
      if (isFinalStatus(snapshot.status) || this.#closing.signal.aborted) return;
      snapshot.result = result;
      this.#finish(entry, 'succeeded');
    } catch (error) {
      if (isFinalStatus(snapshot.status)) return;
      if (controller.signal.aborted) {
        // Closing leaves a resumable job unfinished in the store; anything else is a cancel.
        if (!this.#resumable(entry)) this.#finish(entry, 'cancelled');
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
    // A finished job never runs again: its checkpoint is of no more use.
    delete entry.checkpoint;
    this.#emit(entry);
    entry.settle();
    if (entry.webhook && snapshot.webhook) this.#deliver(entry);
  }

  #deliver(entry: JobEntry): void {
    const { webhook, snapshot } = entry;
    if (!webhook || !snapshot.webhook) return;
    const delivery = deliverWebhook(webhook, copy(snapshot), snapshot.webhook, {
      fetch: this.#options.fetch ?? globalThis.fetch,
      timeoutMs: this.#options.webhookTimeoutMs ?? 10_000,
      attempts: Math.max(1, this.#options.webhookAttempts ?? 3),
      retryDelayMs: this.#options.webhookRetryDelayMs ?? 1000,
      signal: this.#closing.signal,
      now: this.#now,
      onAttempt: () => this.#save(entry),
    }).then(() => this.#save(entry));
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
  }

  /** Tells the listeners and writes the job through to the store. */
  #emit(entry: JobEntry): void {
    this.#save(entry);
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

  #save(entry: JobEntry): void {
    this.#store?.save(
      entry.snapshot.id,
      (): JobRecord => ({
        snapshot: entry.snapshot,
        resumable: this.#resumable(entry),
        ...(entry.input === undefined ? {} : { input: entry.input }),
        ...(entry.checkpoint === undefined ? {} : { checkpoint: entry.checkpoint }),
        ...(entry.webhook ? { webhook: entry.webhook } : {}),
        ...(entry.idempotencyKey === undefined ? {} : { idempotencyKey: entry.idempotencyKey }),
        ...(entry.options.owner === undefined ? {} : { owner: entry.options.owner }),
      }),
    );
  }

  /** Forgets finished jobs past their TTL, and the oldest beyond `maxFinished`. */
  #prune(): void {
    const now = this.#now();
    const finished: JobEntry[] = [];
    for (const [id, entry] of this.#jobs) {
      if (entry.finishedAtMs === undefined) continue;
      if (now - entry.finishedAtMs >= this.#ttlMs) this.#forget(id);
      else finished.push(entry);
    }
    const excess = finished.length - this.#maxFinished;
    if (excess > 0) {
      finished.sort((left, right) => left.finishedAtMs! - right.finishedAtMs!);
      for (const entry of finished.slice(0, excess)) this.#forget(entry.snapshot.id);
    }
  }

  #forget(id: string): void {
    const entry = this.#jobs.get(id);
    this.#jobs.delete(id);
    if (entry?.idempotencyKey !== undefined) this.#idempotency.delete(idempotencyOf(entry.options)!);
    this.#store?.remove(id);
  }
}

/** A job is visible to its owner, and to callers that name none. */
function visible(entry: JobEntry, access: JobAccess): boolean {
  return access.owner === undefined || entry.options.owner === access.owner;
}

/** Idempotency keys are per owner: two keys' `nightly` are two jobs. */
function idempotencyOf(options: CreateJobOptions): string | undefined {
  if (options.idempotencyKey === undefined) return undefined;
  return options.owner === undefined
    ? options.idempotencyKey
    : `${options.owner}\u0000${options.idempotencyKey}`;
}
