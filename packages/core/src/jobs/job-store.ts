import type { KeyvLike } from '../state/keyv-like.js';
import type { JobSnapshot, JobWebhook } from './job.js';

/** A job as it is kept at rest: enough to show it and, when it did not finish, to run it again. */
export interface JobRecord {
  snapshot: JobSnapshot;
  /** What its kind's handler gets; absent for jobs created with a `run` function (not resumable). */
  input?: unknown;
  /** The last value the job saved with `context.checkpoint`, given back when it resumes. */
  checkpoint?: unknown;
  /** With its secret, which snapshots never show. */
  webhook?: JobWebhook;
  idempotencyKey?: string;
  /** The API key id the job belongs to. */
  owner?: string;
  /** False for jobs whose work is a function: they cannot run again after a restart. */
  resumable: boolean;
}

const DELETE = Symbol('delete');

/**
 * Job records in a Keyv: `<prefix>:<id>` per job and `<prefix>:index` listing the ids oldest first.
 * Writes are coalesced per key (the latest state wins) and run in the background; `flush` waits for
 * them. One process owns the records of a store at a time.
 */
export class JobStore {
  readonly #keyv: KeyvLike<unknown>;
  readonly #prefix: string;
  readonly #onError: (error: unknown) => void;
  readonly #pending = new Map<string, (() => unknown) | typeof DELETE>();
  readonly #ids = new Set<string>();
  #draining: Promise<void> | undefined;

  constructor(
    keyv: KeyvLike<unknown>,
    options: { prefix?: string; onError?: (error: unknown) => void } = {},
  ) {
    this.#keyv = keyv;
    this.#prefix = options.prefix ?? 'jobs';
    this.#onError = options.onError ?? (() => {});
  }

  /** Every record held, oldest first. */
  async load(): Promise<JobRecord[]> {
    const ids = ((await this.#keyv.get(`${this.#prefix}:index`)) as string[] | undefined) ?? [];
    const records: JobRecord[] = [];
    for (const id of ids) {
      const record = (await this.#keyv.get(`${this.#prefix}:${id}`)) as JobRecord | undefined | null;
      if (record?.snapshot) {
        records.push(record);
        this.#ids.add(id);
      }
    }
    return records;
  }

  /** Schedules a write of the record as `read` returns it when the write runs. */
  save(id: string, read: () => JobRecord): void {
    if (!this.#ids.has(id)) {
      this.#ids.add(id);
      this.#schedule('index', () => [...this.#ids]);
    }
    this.#schedule(id, () => JSON.parse(JSON.stringify(read())) as unknown);
  }

  remove(id: string): void {
    if (!this.#ids.delete(id)) return;
    this.#schedule('index', () => [...this.#ids]);
    this.#schedule(id, DELETE);
  }

  /** Resolves once every scheduled write has reached the store. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  #schedule(name: string, value: (() => unknown) | typeof DELETE): void {
    this.#pending.set(`${this.#prefix}:${name}`, value);
    this.#draining ??= this.#drain();
  }

  async #drain(): Promise<void> {
    // Let the changes of this turn of the event loop gather into one write per key.
    await Promise.resolve();
    while (this.#pending.size > 0) {
      const batch = [...this.#pending];
      this.#pending.clear();
      await Promise.all(
        batch.map(async ([key, value]) => {
          try {
            if (value === DELETE) await this.#keyv.delete?.(key);
            else await this.#keyv.set(key, value());
          } catch (error) {
            this.#onError(error);
          }
        }),
      );
    }
    this.#draining = undefined;
  }
}
