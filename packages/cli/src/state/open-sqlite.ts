import { createRequire } from 'node:module';

/** The part of better-sqlite3's (and `node:sqlite`'s) database the store uses. */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): {
    run(...parameters: unknown[]): unknown;
    get(...parameters: unknown[]): unknown;
  };
  close(): void;
}

const require = createRequire(import.meta.url);

/**
 * Opens a SQLite file with better-sqlite3, or with Node's own `node:sqlite` (Node 22.5+) when the
 * native addon cannot load, as when node_modules was built for another Node version.
 */
export function openSqlite(file: string): SqliteDatabase {
  let addonError: unknown;
  try {
    const Database = require('better-sqlite3') as new (file: string) => SqliteDatabase;
    return new Database(file);
  } catch (error) {
    addonError = error;
  }
  try {
    const { DatabaseSync } = require('node:sqlite') as { DatabaseSync: new (file: string) => SqliteDatabase };
    return new DatabaseSync(file);
  } catch {
    throw new Error(
      `Cannot open the SQLite state '${file}': ${(addonError as Error).message}. Rebuild better-sqlite3 (npm rebuild better-sqlite3), or set FUSION_STATE=memory.`,
      { cause: addonError },
    );
  }
}
