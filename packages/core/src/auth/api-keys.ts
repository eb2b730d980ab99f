import { AuthenticationError } from '../errors/authentication-error.js';
import { RateLimitError } from '../errors/rate-limit-error.js';
import { MemoryRateLimiter, type RateLimiterLike } from './rate-limiter.js';
import { sha256Hex } from './sha256-hex.js';

/** One API key of {@link ApiKeys}. */
export interface ApiKeyOptions {
  /**
   * The key's name: what logs, limits and ownership use in its place (jobs created with the key
   * belong to it). @example 'team-a'
   */
  id: string;
  /** The key itself. Hashed when read and not kept; prefer `sha256` in files. */
  key?: string;
  /** The hex SHA-256 of the key, as `fusion keys create` prints it: the config never holds the key. */
  sha256?: string;
  /** Requests the key may make per minute. @default unlimited */
  requestsPerMinute?: number;
  /** Tokens (prompt + completion) the key may spend per minute. @default unlimited */
  tokensPerMinute?: number;
  /**
   * An operator's key: it also sees what concerns every key (`/internal/diagnostics`, the
   * dashboard's data: all requests and jobs), and may write to RAG collections made without a key
   * (read-only to other keys). @default false
   */
  admin?: boolean;
}

/** Who made a request: the `id` of the key it carried, and whether it is an admin key. */
export interface ApiKeyPrincipal {
  id: string;
  /** Present (true) only for a key configured with `admin: true`. */
  admin?: true;
}

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

function fromHex(hex: string, id: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new TypeError(`API key '${id}': sha256 must be 64 hex digits.`);
  return Uint8Array.from(hex.match(/../g)!, (byte) => Number.parseInt(byte, 16));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function idOfHash(hex: string): string {
  return `key-${hex.slice(0, 12)}`;
}

/** Equal bytes, in a time that does not depend on where they differ. */
function constantTimeEqual(left: Uint8Array, right: Uint8Array): boolean {
  let difference = left.length ^ right.length;
  for (let index = 0; index < left.length; index++) difference |= left[index]! ^ (right[index] ?? 0);
  return difference === 0;
}

interface StoredKey {
  options: ApiKeyOptions;
  hash: Uint8Array;
}

/**
 * API keys: only their SHA-256 is kept (a key given in clear is hashed at once); a presented key is
 * hashed and compared with every stored hash in constant time; keys never reach a message or a log,
 * only their `id` does. Per-key request and token limits count through a {@link RateLimiterLike}
 * (shared through Redis by `fusion serve`), answering 429 with `Retry-After`.
 *
 * @example
 * const keys = new ApiKeys([{ id: 'team-a', sha256: '9f86d0…', requestsPerMinute: 60 }]);
 * const fusion = createFusion({ providers: [lab], apiKeys: keys });
 */
export class ApiKeys {
  readonly #keys: Promise<StoredKey[]>;
  readonly #limiter: RateLimiterLike;
  readonly #prefix: string;
  readonly size: number;

  /**
   * @param keys Entries with an `id`, or plain key strings: a plain key's id is `key-` and the first
   * 12 hex digits of its SHA-256 (as {@link ApiKeys.idOf} gives it), so that reordering the list
   * moves no job or limit between keys.
   */
  constructor(
    keys: readonly (string | ApiKeyOptions)[],
    options: { limiter?: RateLimiterLike; prefix?: string } = {},
  ) {
    // Every entry's id, plain keys' derived from their hash: a clash is a config error naming both
    // entries, here, rather than a failure of every request later.
    const ids = new Map<string, string>();
    const plain = new Set<string>();
    keys.forEach((entry, position) => {
      let id: string;
      let described: string;
      if (typeof entry === 'string') {
        if (plain.has(entry))
          throw new TypeError(`API key entry ${position + 1}: the same key is given twice.`);
        plain.add(entry);
        id = idOfHash(sha256Hex(entry));
        described = `entry ${position + 1} (a key given in clear, whose id is '${id}')`;
      } else {
        if (!entry.key === !entry.sha256)
          throw new TypeError(`API key '${entry.id}': give key or sha256, not both.`);
        if (entry.sha256 !== undefined) fromHex(entry.sha256, entry.id);
        id = entry.id;
        described = `entry ${position + 1} (id '${id}')`;
      }
      const earlier = ids.get(id);
      if (earlier !== undefined) {
        throw new TypeError(
          `API key id '${id}' is given twice: ${earlier} and ${described}. Give each key its own id.`,
        );
      }
      ids.set(id, described);
    });
    this.size = keys.length;
    this.#keys = Promise.all(
      keys.map(async (entry): Promise<StoredKey> => {
        if (typeof entry === 'string') {
          const hash = await sha256(entry);
          return { options: { id: idOfHash(toHex(hash)) }, hash };
        }
        const { key, ...rest } = entry;
        return {
          options: rest,
          hash: key === undefined ? fromHex(rest.sha256!, rest.id) : await sha256(key),
        };
      }),
    );
    // Entries were checked above; never an unhandled rejection.
    this.#keys.catch(() => {});
    this.#limiter = options.limiter ?? new MemoryRateLimiter();
    this.#prefix = options.prefix ?? 'limit';
  }

  /** The hex SHA-256 of a key, as `sha256` takes it. */
  static async hash(key: string): Promise<string> {
    return toHex(await sha256(key));
  }

  /** The id a key given as a plain string gets: `key-` and the first 12 hex digits of its SHA-256. */
  static async idOf(key: string): Promise<string> {
    return idOfHash(await ApiKeys.hash(key));
  }

  /**
   * The key a request carries (`Authorization: Bearer <key>`), after its request limit and its
   * token limit of the minute: 401 without a known key, 429 with `Retry-After` past a limit.
   */
  async authenticate(request: Request): Promise<ApiKeyPrincipal> {
    const header = request.headers.get('authorization') ?? '';
    // `x-api-key` is what Anthropic's clients send.
    const token =
      (header.startsWith('Bearer ') ? header.slice(7).trim() : '') ||
      (request.headers.get('x-api-key') ?? '').trim();
    if (!token) throw new AuthenticationError('Missing API key: send `Authorization: Bearer <key>`.');
    const hash = await sha256(token);
    let found: StoredKey | undefined;
    // Every stored hash is compared, so that the time says nothing of which one matched.
    for (const stored of await this.#keys) if (constantTimeEqual(stored.hash, hash)) found = stored;
    if (!found) throw new AuthenticationError('The API key is not valid.', { code: 'invalid_api_key' });
    const { id, requestsPerMinute, tokensPerMinute, admin } = found.options;
    if (tokensPerMinute !== undefined) {
      const tokens = await this.#limiter.consume(`${this.#prefix}:tokens:${id}`, 0, tokensPerMinute);
      if (!tokens.allowed) throw this.#limited(id, 'tokens', tokensPerMinute, tokens.retryAfterMs);
    }
    if (requestsPerMinute !== undefined) {
      const requests = await this.#limiter.consume(`${this.#prefix}:requests:${id}`, 1, requestsPerMinute);
      if (!requests.allowed) throw this.#limited(id, 'requests', requestsPerMinute, requests.retryAfterMs);
    }
    return admin === true ? { id, admin } : { id };
  }

  /** Counts tokens a key's request spent against its token limit (past it, its next request waits). */
  async spend(id: string, tokens: number): Promise<void> {
    const stored = (await this.#keys).find((entry) => entry.options.id === id);
    const perMinute = stored?.options.tokensPerMinute;
    if (perMinute === undefined || tokens <= 0) return;
    await this.#limiter.consume(`${this.#prefix}:tokens:${id}`, tokens, perMinute, true);
  }

  #limited(id: string, what: string, perMinute: number, retryAfterMs: number): RateLimitError {
    return new RateLimitError(
      `Rate limit of API key '${id}' reached: ${perMinute} ${what} per minute. Try again in ${Math.ceil(retryAfterMs / 1000)} s.`,
      { retryAfterMs: Math.max(1000, retryAfterMs), type: what === 'tokens' ? 'tokens' : 'requests' },
    );
  }
}
