import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KeyvLike } from '@fusionkit/core';
import Keyv from 'keyv';
import { ConfigError } from '../config/config-error.js';
import { SqliteStore } from './sqlite-store.js';

/** Where `fusion serve` keeps jobs and traces (config `state`). */
export interface StateOptions {
  /**
   * `sqlite`: one file, `<dir>/state.sqlite`, kept across restarts; `memory`: gone with the process.
   * `FUSION_STATE` overrides it. Ignored when `redis` is set. @default 'sqlite'
   */
  store?: 'sqlite' | 'memory';
  /** Folder of the SQLite file, from the working directory. `FUSION_STATE_DIR` overrides it. @default '.fusion' */
  dir?: string;
}

/** Keyv instances by namespace over one backing store, and how to close them. */
export interface FusionState {
  /** What backs the state, for the log. @example 'sqlite .fusion/state.sqlite' */
  readonly description: string;
  /**
   * A Keyv over the store, its keys under `namespace`. `strict`: a failing store rejects (jobs must
   * not start from an empty list because Redis was down); otherwise failures go to `onError`.
   */
  keyv<TValue = unknown>(
    namespace: string,
    options?: { strict?: boolean },
  ): KeyvLike<TValue> & { delete(key: string): Promise<unknown> };
  close(): Promise<void>;
}

/**
 * Opens the state a config and environment ask for: Redis when `FUSION_REDIS_URL` or config `redis`
 * is set, else SQLite under `.fusion/` (or memory with `FUSION_STATE=memory`).
 */
export async function openState(options: {
  cwd: string;
  env: Record<string, string | undefined>;
  state?: StateOptions;
  redis?: string;
  onError?: (error: unknown) => void;
}): Promise<FusionState> {
  const { env } = options;
  const redis = env.FUSION_REDIS_URL || options.redis;
  const opened: Keyv[] = [];
  const onError = options.onError ?? (() => {});
  const keep = <TValue>(keyv: Keyv<TValue>, strict = false) => {
    // Keyv reports a failed write as an event; without a listener it would be lost.
    keyv.on('error', onError);
    keyv.throwOnErrors = strict;
    opened.push(keyv as Keyv);
    return keyv;
  };
  const close = async () => {
    await Promise.all(opened.splice(0).map((keyv) => keyv.disconnect().catch(onError)));
  };
  if (redis) {
    const { createKeyv } = await import('@keyv/redis');
    // Several deployments (or test runs) may share one Redis: FUSION_REDIS_PREFIX keeps them apart.
    const prefix = env.FUSION_REDIS_PREFIX || 'fusion';
    return {
      description: `redis ${new URL(redis).host} (${prefix}:*)`,
      keyv: (namespace, keyvOptions) =>
        keep(
          // A Redis that cannot be reached fails the start in seconds instead of retrying for ever.
          createKeyv(redis, { namespace: `${prefix}:${namespace}`, connectionTimeout: 5000 }) as Keyv,
          keyvOptions?.strict,
        ),
      close,
    };
  }
  const store = env.FUSION_STATE || options.state?.store || 'sqlite';
  if (store === 'memory') {
    return {
      description: 'memory (lost on restart)',
      keyv: (namespace) => keep(new Keyv({ namespace })),
      close,
    };
  }
  if (store !== 'sqlite') throw new ConfigError(`FUSION_STATE must be 'sqlite' or 'memory', not '${store}'.`);
  const dir = resolve(options.cwd, env.FUSION_STATE_DIR || options.state?.dir || '.fusion');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'state.sqlite');
  return {
    description: `sqlite ${file}`,
    keyv: (namespace, keyvOptions) =>
      keep(new Keyv({ store: new SqliteStore(file), namespace }), keyvOptions?.strict),
    close,
  };
}
