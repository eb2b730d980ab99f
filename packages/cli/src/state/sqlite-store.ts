import { openSqlite, type SqliteDatabase } from './open-sqlite.js';

interface Row {
  value: string;
  expires: number | null;
}

/**
 * A Keyv store in one SQLite file (`new Keyv({ store: new SqliteStore(file) })`): every write is
 * committed before it resolves, in WAL mode, so a process killed with SIGKILL loses nothing it was
 * told was written. Expired rows are skipped on read and swept on open and every `sweepMs`.
 */
export class SqliteStore {
  /** Set by Keyv: keys arrive already prefixed with it. */
  namespace?: string;
  readonly opts: { dialect: 'sqlite'; url: string };
  readonly #database: SqliteDatabase;
  readonly #select;
  readonly #upsert;
  readonly #remove;
  readonly #sweep;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(file: string, options: { sweepMs?: number } = {}) {
    this.opts = { dialect: 'sqlite', url: file };
    this.#database = openSqlite(file);
    // WAL with synchronous NORMAL survives a killed process (not a power cut) and writes fast.
    this.#database.exec(
      'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;',
    );
    this.#database.exec(
      'CREATE TABLE IF NOT EXISTS keyv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER)',
    );
    this.#select = this.#database.prepare('SELECT value, expires FROM keyv WHERE key = ?');
    this.#upsert = this.#database.prepare(
      'INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires',
    );
    this.#remove = this.#database.prepare('DELETE FROM keyv WHERE key = ?');
    this.#sweep = this.#database.prepare('DELETE FROM keyv WHERE expires IS NOT NULL AND expires <= ?');
    this.#sweep.run(Date.now());
    this.#timer = setInterval(() => this.#sweep.run(Date.now()), options.sweepMs ?? 600_000);
    this.#timer.unref();
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.#select.get(key) as Row | undefined;
    if (!row || (row.expires !== null && row.expires <= Date.now())) return undefined;
    return row.value;
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    this.#upsert.run(key, value, typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const result = this.#remove.run(key) as { changes: number | bigint };
    return Number(result.changes) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** Deletes the keys of this store's namespace (every key without one). */
  async clear(): Promise<void> {
    if (this.namespace)
      this.#database.prepare('DELETE FROM keyv WHERE key LIKE ?').run(`${this.namespace}:%`);
    else this.#database.exec('DELETE FROM keyv');
  }

  /** Keyv listens for errors; this store throws instead of emitting. */
  on(): this {
    return this;
  }

  async disconnect(): Promise<void> {
    clearInterval(this.#timer);
    this.#database.close();
  }
}
