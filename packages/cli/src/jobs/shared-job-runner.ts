import {
  AbortedError,
  type CreateJobOptions,
  InvalidRequestError,
  isFinalStatus,
  type JobAccess,
  type JobContext,
  type JobHandler,
  type JobPage,
  type JobRecord,
  type JobRunnerLike,
  type JobSnapshot,
  type JobStatus,
  toFusionError,
  UnavailableError,
} from '@fusionkit/core';
import { copyJobSnapshot, deliverWebhook, newJobId, seconds } from '@fusionkit/core/internal';
import { type Job, Queue, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** Options of {@link SharedJobRunner}. */
export interface SharedJobRunnerOptions {
  /** The Redis every instance shares. @example 'redis://127.0.0.1:6379' */
  url: string;
  /** Prefix of every key (the deployment's `FUSION_REDIS_PREFIX`). @default 'fusion' */
  prefix?: string;
  /** Jobs this instance runs at once. @default 1 */
  concurrency?: number;
  /**
   * How long a running job's lease lasts without renewal, ms: a job whose instance died (kill -9,
   * a lost host) is taken over by another instance this long after its last renewal. @default 30_000
   */
  lockMs?: number;
  /** How long a finished job stays readable, ms. @default 3_600_000 (one hour) */
  ttlMs?: number;
  /** Sends webhooks. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time allowed to one webhook attempt, ms. @default 10_000 */
  webhookTimeoutMs?: number;
  /** Webhook attempts in all. @default 3 */
  webhookAttempts?: number;
  /** Wait before the second webhook attempt, doubled after each, ms. @default 1000 */
  webhookRetryDelayMs?: number;
  /** Told of failures the runner recovers from (a lost Redis connection, a failed webhook save). */
  onError?: (error: unknown) => void;
}

/** Writes a record unless the one stored is final already: a cancelled job never comes back. */
const WRITE_UNLESS_FINAL = `
local current = redis.call('GET', KEYS[1])
if current then
  local status = cjson.decode(current).snapshot.status
  if status == 'succeeded' or status == 'failed' or status == 'cancelled' then return 0 end
end
if ARGV[2] ~= '0' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/** Deletes a key only while it still holds the given value (an idempotency claim of ours). */
const DELETE_IF_EQUAL = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type WritableRedis = Redis & {
  writeUnlessFinal(key: string, value: string, ttlMs: string): Promise<number>;
  deleteIfEqual(key: string, value: string): Promise<number>;
};

/**
 * Jobs shared by every instance of a deployment through Redis: any instance creates, lists, reads
 * and cancels any job; BullMQ hands each job to one instance at a time under a lease that the
 * instance renews while it runs. An instance that dies (kill -9) stops renewing; once the lease runs
 * out another instance takes the job over and resumes it from its last checkpoint, so each unit of
 * work a kind checkpoints is done once. Records (`<prefix>:jobs:job:<id>`) hold the snapshot, input,
 * checkpoint and webhook; `<prefix>:jobs:index` orders them by creation.
 */
export class SharedJobRunner implements JobRunnerLike {
  readonly #options: SharedJobRunnerOptions;
  readonly #keys: string;
  readonly #redis: WritableRedis;
  readonly #handlers = new Map<string, JobHandler>();
  readonly #running = new Map<string, AbortController>();
  readonly #deliveries = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  readonly #ttlMs: number;
  #queue: Queue | undefined;
  #worker: Worker | undefined;
  #subscriber: Redis | undefined;
  #started: Promise<void> | undefined;

  constructor(options: SharedJobRunnerOptions) {
    this.#options = options;
    const prefix = options.prefix ?? 'fusion';
    this.#keys = `${prefix}:jobs`;
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    // A Redis that cannot be reached fails calls in seconds instead of queueing them for ever.
    this.#redis = new Redis(options.url, { connectTimeout: 5000, maxRetriesPerRequest: 3 }) as WritableRedis;
    this.#redis.on('error', (error) => this.#options.onError?.(error));
    this.#redis.defineCommand('writeUnlessFinal', { numberOfKeys: 1, lua: WRITE_UNLESS_FINAL });
    this.#redis.defineCommand('deleteIfEqual', { numberOfKeys: 1, lua: DELETE_IF_EQUAL });
  }

  /** Jobs are in Redis: they survive any instance. */
  get durable(): boolean {
    return true;
  }

  get kinds(): string[] {
    return [...this.#handlers].filter(([, handler]) => handler.http !== false).map(([kind]) => kind);
  }

  define<TInput, TResult>(kind: string, handler: JobHandler<TInput, TResult>): () => void {
    this.#handlers.set(kind, handler as JobHandler);
    return () => {
      if (this.#handlers.get(kind) === handler) this.#handlers.delete(kind);
    };
  }

  /** Connects and starts taking jobs (the unfinished ones of every instance included). */
  restore(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const prefix = `${this.#options.prefix ?? 'fusion'}:bull`;
    const connection = { url: this.#options.url, maxRetriesPerRequest: null, connectTimeout: 5000 };
    await this.#redis.ping();
    this.#queue = new Queue('jobs', { connection, prefix });
    this.#queue.on('error', (error) => this.#options.onError?.(error));
    const lockDuration = this.#options.lockMs ?? 30_000;
    this.#worker = new Worker('jobs', (job, token) => this.#process(job, token), {
      connection,
      prefix,
      concurrency: Math.max(1, this.#options.concurrency ?? 1),
      lockDuration,
      stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
      // A job whose instances keep dying is given up only after many tries.
      maxStalledCount: 10,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    this.#worker.on('error', (error) => this.#options.onError?.(error));
    // A cancel on any instance reaches the one running the job.
    this.#subscriber = this.#redis.duplicate();
    this.#subscriber.on('error', (error) => this.#options.onError?.(error));
    this.#subscriber.on('message', (_channel, id: string) => {
      this.#running.get(id)?.abort(new AbortedError('The job was cancelled.', { code: 'job_cancelled' }));
    });
    await this.#subscriber.subscribe(`${this.#keys}:cancel`);
    await this.#enqueueOrphans();
  }

  /**
   * Puts back in the queue every queued job that is not in it: an instance that died between
   * writing a job and enqueueing it (or whose enqueue failed and could not be undone) left it so.
   * Enqueueing a job twice is harmless: BullMQ keeps one per id, and a job that ended is not run again.
   */
  async #enqueueOrphans(): Promise<void> {
    const queue = this.#queue!;
    const batch = 200;
    for (let start = 0; ; start += batch) {
      const ids = await this.#redis.zrange(`${this.#keys}:index`, start, start + batch - 1);
      if (ids.length === 0) return;
      const values = await this.#redis.mget(ids.map((id) => this.#recordKey(id)));
      for (const value of values) {
        if (value === null) continue;
        const { snapshot } = JSON.parse(value) as JobRecord;
        if (snapshot.status !== 'queued') continue;
        if ((await queue.getJobState(snapshot.id)) !== 'unknown') continue;
        await queue.add(snapshot.kind, {}, { jobId: snapshot.id });
      }
    }
  }

  async create<TResult>(options: CreateJobOptions<TResult>): Promise<JobSnapshot<TResult>> {
    if (this.#closing.signal.aborted) throw new AbortedError('The job runner is closed.');
    await this.restore();
    const handler = this.#handlers.get(options.kind);
    if (options.run || !handler) {
      throw new InvalidRequestError(
        `No job kind '${options.kind}'; known kinds: ${this.kinds.join(', ') || 'none'}.`,
        { code: 'unknown_job_kind', param: 'kind' },
      );
    }
    const input = handler.validate ? handler.validate(options.input) : options.input;
    const id = newJobId();
    const access = options.owner === undefined ? {} : { owner: options.owner };
    if (options.idempotencyKey !== undefined) {
      // The first create with a key wins, on whichever instance it ran.
      const key = this.#idempotencyKey(options.idempotencyKey, options.owner);
      const claimed = await this.#redis.set(key, id, 'NX');
      if (claimed === null) {
        const known = await this.#redis.get(key);
        const job = known ? await this.get<TResult>(known, access) : undefined;
        if (job) return job;
        await this.#redis.set(key, id);
      }
    }
    const now = Date.now();
    const snapshot: JobSnapshot = {
      object: 'job',
      id,
      kind: options.kind,
      status: 'queued',
      progress: { done: 0, ...(options.total === undefined ? {} : { total: options.total }) },
      created_at: seconds(now),
    };
    if (options.metadata) snapshot.metadata = options.metadata;
    if (options.webhook) snapshot.webhook = { url: options.webhook.url, status: 'pending', attempts: 0 };
    const record: JobRecord = {
      snapshot,
      resumable: true,
      ...(input === undefined ? {} : { input }),
      ...(options.webhook ? { webhook: options.webhook } : {}),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(options.owner === undefined ? {} : { owner: options.owner }),
    };
    await this.#redis
      .multi()
      .set(this.#recordKey(id), JSON.stringify(record))
      .zadd(`${this.#keys}:index`, now, id)
      .exec();
    try {
      await this.#queue!.add(options.kind, {}, { jobId: id });
    } catch (error) {
      // Not in the queue, the job would stay queued for ever, and a retry with the same idempotency
      // key would get it back: it is undone. An undo that fails too leaves it to `restore`.
      await this.#undoCreate(record).catch((undoError) => this.#options.onError?.(undoError));
      throw new UnavailableError('The job could not be queued; try again.', {
        code: 'job_not_queued',
        retryAfterMs: 1000,
        cause: error,
      });
    }
    return copyJobSnapshot(snapshot) as JobSnapshot<TResult>;
  }

  async get<TResult = unknown>(
    id: string,
    access: JobAccess = {},
  ): Promise<JobSnapshot<TResult> | undefined> {
    return (await this.#read(id, access))?.snapshot as JobSnapshot<TResult> | undefined;
  }

  async page(options: { limit?: number; after?: string } & JobAccess = {}): Promise<JobPage> {
    const limit = Math.min(Math.max(1, options.limit ?? 20), 100);
    let start = 0;
    if (options.after) {
      const rank = await this.#redis.zrevrank(`${this.#keys}:index`, options.after);
      // Another owner's job is as unknown here as anywhere.
      if (rank === null || !(await this.#read(options.after, options))) {
        throw new InvalidRequestError(`No job '${options.after}' to list after.`, {
          code: 'job_not_found',
          param: 'after',
        });
      }
      start = rank + 1;
    }
    const data: JobSnapshot[] = [];
    let hasMore = false;
    // Records past their TTL are gone: their index entries are dropped as the listing meets them.
    while (data.length <= limit) {
      const ids = await this.#redis.zrevrange(`${this.#keys}:index`, start, start + limit);
      if (ids.length === 0) break;
      start += ids.length;
      const values = await this.#redis.mget(ids.map((id) => this.#recordKey(id)));
      const gone: string[] = [];
      values.forEach((value, index) => {
        if (value === null) gone.push(ids[index]!);
        else {
          const record = JSON.parse(value) as JobRecord;
          if (visible(record, options)) data.push(record.snapshot);
        }
      });
      if (gone.length > 0) await this.#redis.zrem(`${this.#keys}:index`, ...gone);
    }
    if (data.length > limit) {
      hasMore = true;
      data.length = limit;
    }
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: hasMore,
    };
  }

  async cancel(id: string, access: JobAccess = {}): Promise<JobSnapshot | undefined> {
    const record = await this.#read(id, access);
    if (!record) return undefined;
    if (isFinalStatus(record.snapshot.status)) return record.snapshot;
    if (await this.#finish(record, 'cancelled')) {
      await this.#redis.publish(`${this.#keys}:cancel`, id);
      // A queued job leaves the queue; an active one is locked and ends through the cancel message.
      await this.#queue?.remove(id).catch(() => 0);
      if (record.webhook) this.#track(this.#deliver(record));
    }
    return (await this.#read(id))?.snapshot;
  }

  /** Every write is awaited where it is made. */
  async flush(): Promise<void> {}

  /**
   * Stops taking jobs. A running job is put back in the queue at once (from its last checkpoint),
   * for another instance or the next start; deliveries under way are stopped.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const controller of this.#running.values()) {
      controller.abort(new AbortedError('The job runner is closing.', { code: 'job_interrupted' }));
    }
    await this.#worker?.close();
    await Promise.all(this.#deliveries);
    await this.#queue?.close();
    await this.#subscriber?.quit().catch(() => undefined);
    await this.#redis.quit().catch(() => undefined);
  }

  async #process(job: Job, token: string | undefined): Promise<void> {
    const id = job.id!;
    const record = await this.#read(id);
    if (!record) return;
    if (isFinalStatus(record.snapshot.status)) {
      // An instance died after the job ended and before its webhook was answered.
      if (record.webhook && record.snapshot.webhook?.status === 'pending') await this.#deliver(record);
      return;
    }
    const { snapshot } = record;
    const handler = this.#handlers.get(snapshot.kind);
    if (!handler) {
      snapshot.error = new InvalidRequestError(`This instance knows no job kind '${snapshot.kind}'.`, {
        code: 'unknown_job_kind',
      }).toJSON().error;
      if (await this.#finish(record, 'failed')) await this.#deliver(record);
      return;
    }
    const controller = new AbortController();
    this.#running.set(id, controller);
    snapshot.status = 'running';
    snapshot.started_at = seconds(Date.now());
    snapshot.attempts = (snapshot.attempts ?? 0) + 1;
    if (!(await this.#write(record))) {
      this.#running.delete(id);
      return;
    }
    let writing: Promise<void> = Promise.resolve();
    const cancelledUnlessWritten = async (write: Promise<boolean>) => {
      if (!(await write))
        controller.abort(new AbortedError('The job was cancelled.', { code: 'job_cancelled' }));
    };
    const context: JobContext = {
      id,
      signal: controller.signal,
      attempt: snapshot.attempts,
      ...(record.checkpoint === undefined ? {} : { saved: record.checkpoint }),
      progress: (update) => {
        const total = update.total ?? snapshot.progress.total;
        snapshot.progress = total === undefined ? { done: update.done } : { done: update.done, total };
        if (update.detail) snapshot.detail = update.detail;
        // Writes go out in order; a job that was cancelled meanwhile learns it here.
        writing = writing.then(() => cancelledUnlessWritten(this.#write(record)));
      },
      checkpoint: async (value) => {
        record.checkpoint = value;
        writing = writing.then(() => cancelledUnlessWritten(this.#write(record)));
        await writing;
      },
    };
    try {
      const result = await handler.run(record.input, context);
      await writing;
      controller.signal.throwIfAborted();
      snapshot.result = result;
      if (await this.#finish(record, 'succeeded')) await this.#deliver(record);
    } catch (error) {
      await writing.catch(() => undefined);
      if (this.#closing.signal.aborted) {
        // Back to the queue now, rather than when the lease runs out.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (controller.signal.aborted) return;
      snapshot.error = toFusionError(error).toJSON().error;
      if (await this.#finish(record, 'failed')) await this.#deliver(record);
    } finally {
      this.#running.delete(id);
    }
  }

  /** Forgets a job whose enqueue failed: its record, its index entry and its idempotency claim. */
  async #undoCreate(record: JobRecord): Promise<void> {
    const { id } = record.snapshot;
    await this.#redis.multi().del(this.#recordKey(id)).zrem(`${this.#keys}:index`, id).exec();
    if (record.idempotencyKey !== undefined) {
      await this.#redis.deleteIfEqual(this.#idempotencyKey(record.idempotencyKey, record.owner), id);
    }
  }

  /** Writes the job as final (unless it is final already); false when another write won. */
  async #finish(record: JobRecord, status: JobStatus): Promise<boolean> {
    const { snapshot } = record;
    const now = Date.now();
    snapshot.status = status;
    snapshot.finished_at = seconds(now);
    snapshot.expires_at = seconds(now + this.#ttlMs);
    delete record.checkpoint;
    const written = await this.#write(record, this.#ttlMs);
    if (written) {
      if (record.idempotencyKey !== undefined) {
        await this.#redis.pexpire(this.#idempotencyKey(record.idempotencyKey, record.owner), this.#ttlMs);
      }
    }
    return written;
  }

  async #deliver(record: JobRecord): Promise<void> {
    const { webhook, snapshot } = record;
    if (!webhook || !snapshot.webhook) return;
    const save = () =>
      this.#redis
        .set(this.#recordKey(snapshot.id), JSON.stringify(record), 'PX', this.#ttlMs)
        .catch((error) => this.#options.onError?.(error));
    await deliverWebhook(webhook, copyJobSnapshot(snapshot), snapshot.webhook, {
      fetch: this.#options.fetch ?? globalThis.fetch,
      timeoutMs: this.#options.webhookTimeoutMs ?? 10_000,
      attempts: Math.max(1, this.#options.webhookAttempts ?? 3),
      retryDelayMs: this.#options.webhookRetryDelayMs ?? 1000,
      signal: this.#closing.signal,
      onAttempt: () => void save(),
    });
    await save();
  }

  #track(delivery: Promise<void>): void {
    const tracked = delivery.catch((error) => this.#options.onError?.(error));
    this.#deliveries.add(tracked);
    void tracked.finally(() => this.#deliveries.delete(tracked));
  }

  async #write(record: JobRecord, ttlMs = 0): Promise<boolean> {
    const written = await this.#redis.writeUnlessFinal(
      this.#recordKey(record.snapshot.id),
      JSON.stringify(record),
      String(ttlMs),
    );
    return written === 1;
  }

  async #read(id: string, access: JobAccess = {}): Promise<JobRecord | undefined> {
    if (!id.startsWith('job_')) return undefined;
    const value = await this.#redis.get(this.#recordKey(id));
    const record = value === null ? undefined : (JSON.parse(value) as JobRecord);
    return record && visible(record, access) ? record : undefined;
  }

  #recordKey(id: string): string {
    return `${this.#keys}:job:${id}`;
  }

  /** Idempotency keys are per owner: two API keys' `nightly` are two jobs. */
  #idempotencyKey(key: string, owner: string | undefined): string {
    return `${this.#keys}:idempotency:${owner === undefined ? '' : `${encodeURIComponent(owner)}:`}${key}`;
  }
}

/** A job is visible to its owner, and to callers that name none. */
function visible(record: JobRecord, access: JobAccess): boolean {
  return access.owner === undefined || record.owner === access.owner;
}
