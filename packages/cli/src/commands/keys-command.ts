import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { type ApiKeyOptions, ApiKeys } from '@fusionkit/core';
import { ConfigError } from '../config/config-error.js';
import { loadConfigFile } from '../config/load-config.js';
import type { CliContext } from './cli-context.js';

/** Options of `fusion keys`. */
export interface KeysCommandOptions {
  /** `create`, `list` or `revoke`. */
  action: string | undefined;
  /** The key's id: to name a new key, or the one to revoke. */
  id?: string;
  requestsPerMinute?: string;
  tokensPerMinute?: string;
  config?: string;
  json?: boolean;
}

/** A config's `apiKeys` entry, with the id it is known by (a plain key's is derived from its hash). */
interface ListedKey {
  id: string;
  /** How the config holds it: only its hash, or the key itself. */
  stored: 'sha256' | 'key';
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * `fusion keys create|list|revoke`: makes a key (printed once, with the config entry that holds only
 * its SHA-256), lists the keys of the config by id and limits (never a key), and removes one from a
 * JSON config (other configs are code: the command says what to remove). Returns the exit code.
 */
export async function keysCommand(context: CliContext, options: KeysCommandOptions): Promise<number> {
  if (options.action === 'create') return createKey(context, options);
  if (options.action === 'list') return listKeys(context, options);
  if (options.action === 'revoke') return revokeKey(context, options);
  context.log(`fusion keys: expected create, list or revoke; see fusion keys --help.`);
  return 2;
}

async function createKey(context: CliContext, options: KeysCommandOptions): Promise<number> {
  const requestsPerMinute = perMinute(options.requestsPerMinute, '--rpm');
  const tokensPerMinute = perMinute(options.tokensPerMinute, '--tpm');
  if (options.id !== undefined && !/^[\w.:-]{1,64}$/.test(options.id)) {
    throw new ConfigError('--id: use 1 to 64 letters, digits, or . _ : -');
  }
  // 32 random bytes, as docs/configuration.md asks of keys.
  const key = `fk_${randomBytes(32).toString('base64url')}`;
  const entry: ApiKeyOptions = {
    id: options.id ?? (await ApiKeys.idOf(key)),
    sha256: await ApiKeys.hash(key),
    ...(requestsPerMinute === undefined ? {} : { requestsPerMinute }),
    ...(tokensPerMinute === undefined ? {} : { tokensPerMinute }),
  };
  if (options.json) {
    context.out(JSON.stringify({ key, entry }, null, 2));
  } else {
    context.out(`key: ${key}`);
    context.out(`config entry (add it to apiKeys): ${JSON.stringify(entry)}`);
  }
  context.log('The key is shown only now: store it where its user keeps secrets. The config holds its hash.');
  return 0;
}

async function listKeys(context: CliContext, options: KeysCommandOptions): Promise<number> {
  const { keys, file } = await configKeys(context, options);
  const all = await Promise.all(keys.map(listedKey));
  if (options.json) {
    context.out(JSON.stringify(all, null, 2));
    return 0;
  }
  if (all.length === 0) context.log(`no API keys in ${file ?? 'the config'}: every request is let in.`);
  for (const key of all) {
    const limits = [
      key.requestsPerMinute === undefined ? '' : `${key.requestsPerMinute} requests/min`,
      key.tokensPerMinute === undefined ? '' : `${key.tokensPerMinute} tokens/min`,
    ].filter(Boolean);
    context.out(`${key.id}\t${key.stored}\t${limits.join(', ') || 'no limits'}`);
  }
  return 0;
}

async function revokeKey(context: CliContext, options: KeysCommandOptions): Promise<number> {
  const id = options.id;
  if (!id) throw new ConfigError('fusion keys revoke: name the key, e.g. fusion keys revoke team-a.');
  const { keys, file, config } = await configKeys(context, options);
  const ids = await Promise.all(keys.map(async (entry) => (await listedKey(entry)).id));
  const index = ids.indexOf(id);
  if (index === -1) {
    context.log(
      `fusion keys: no key '${id}' in ${file ?? 'the config'}; known: ${ids.join(', ') || 'none'}.`,
    );
    return 1;
  }
  if (keys.length === 1) {
    // No key left would turn authentication off: every request would be let in.
    context.log(
      `fusion keys: '${id}' is the last key of ${file}; without keys the server lets every request in. ` +
        'Create another key first, or remove apiKeys yourself to turn authentication off.',
    );
    return 1;
  }
  if (!file?.endsWith('.json')) {
    context.log(
      `fusion keys: ${file ?? 'the config'} is code, not JSON: remove the apiKeys entry with id '${id}' yourself` +
        `${typeof keys[index] === 'string' ? ' (a key given in clear)' : ''}, then restart fusion serve.`,
    );
    return 1;
  }
  const text = await readFile(file, 'utf8');
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  const apiKeys = keys.filter((_entry, position) => position !== index);
  const updated = { ...(config as Record<string, unknown>), apiKeys };
  // Written beside it, then renamed over it: a reader never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  const { mode } = await stat(file);
  await writeFile(temporary, `${JSON.stringify(updated, null, indent)}\n`, { mode });
  await rename(temporary, file);
  context.out(`revoked '${id}' in ${file}`);
  context.log('Running servers keep the keys they started with: restart fusion serve to apply it.');
  return 0;
}

/** The `apiKeys` of the config file, checked enough to be listed. */
async function configKeys(
  context: CliContext,
  options: KeysCommandOptions,
): Promise<{ keys: (string | ApiKeyOptions)[]; file: string | undefined; config: unknown }> {
  const { config, file } = await loadConfigFile(context.cwd, options.config);
  const keys = (config as { apiKeys?: unknown }).apiKeys ?? [];
  if (!Array.isArray(keys)) throw new ConfigError(`${file}: apiKeys must be a list.`);
  for (const entry of keys) {
    if (typeof entry === 'string') continue;
    if (typeof entry !== 'object' || entry === null || typeof (entry as { id?: unknown }).id !== 'string')
      throw new ConfigError(`${file}: each apiKeys entry is a key or an object with an id.`);
  }
  return { keys: keys as (string | ApiKeyOptions)[], file, config };
}

async function listedKey(entry: string | ApiKeyOptions): Promise<ListedKey> {
  if (typeof entry === 'string') return { id: await ApiKeys.idOf(entry), stored: 'key' };
  return {
    id: entry.id,
    stored: entry.sha256 === undefined ? 'key' : 'sha256',
    ...(entry.requestsPerMinute === undefined ? {} : { requestsPerMinute: entry.requestsPerMinute }),
    ...(entry.tokensPerMinute === undefined ? {} : { tokensPerMinute: entry.tokensPerMinute }),
  };
}

function perMinute(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1)
    throw new ConfigError(`${flag}: expected a whole number ≥ 1.`);
  return number;
}
