/** Where a {@link LightHeaders} offers its entries as they are (name lower-case, in insertion order). */
export const HEADER_PAIRS = Symbol.for('@fusionkit/header-pairs');

/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a header value may not hold (after its leading and trailing whitespace is cut). */
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

function checkedName(name: string): string {
  const text = String(name);
  if (!HEADER_NAME.test(text)) throw new TypeError(`Invalid header name: ${JSON.stringify(text)}.`);
  return text.toLowerCase();
}

function checkedValue(value: string): string {
  const text = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (FORBIDDEN_IN_VALUE.test(text)) throw new TypeError(`Invalid header value: ${JSON.stringify(text)}.`);
  return text;
}

/** What a {@link LightHeaders} is made from: what `new Headers()` takes, minus another Headers' brand. */
export type LightHeadersInit = Record<string, string> | [string, string][] | Iterable<[string, string]>;

/**
 * A Fetch `Headers` kept as a list of pairs, for the request path: undici's `Headers` costs a
 * `Map`, a sorted cache and WebIDL conversions per instance, and the core builds and reads a few
 * per request. It has the whole `Headers` API with the same results (names case-insensitive,
 * iteration sorted with repeated names joined by `, ` except `set-cookie`, invalid names and values
 * refused with a TypeError), and `instanceof Headers` holds.
 *
 * Entries given to the constructor are trusted when `trusted` is set (the core's own records, a
 * node:http request's parsed headers); entries added later are always checked.
 */
export class LightHeaders {
  /** name (lower-case once {@link #normalized}), value, name, value, … */
  #pairs: string[];
  #normalized: boolean;

  constructor(init?: LightHeadersInit, trusted = false) {
    const pairs: string[] = [];
    if (init instanceof LightHeaders) {
      this.#pairs = init.#list().slice();
      this.#normalized = true;
      return;
    }
    if (init !== undefined && init !== null) {
      if (Array.isArray(init) || Symbol.iterator in Object(init)) {
        for (const entry of init as Iterable<[string, string]>) {
          if (entry.length !== 2) throw new TypeError('A header entry must be a [name, value] pair.');
          pairs.push(trusted ? entry[0] : checkedName(entry[0]), trusted ? entry[1] : checkedValue(entry[1]));
        }
      } else {
        const record = init as Record<string, string>;
        // Own keys only, as undici reads a record (a polluted prototype adds no header).
        for (const name of Object.keys(record)) {
          const value = record[name];
          if (value === undefined) continue;
          pairs.push(trusted ? name : checkedName(name), trusted ? value : checkedValue(value));
        }
      }
    }
    this.#pairs = pairs;
    // Trusted names may still be mixed-case (a request's raw headers): lower-cased on first use.
    this.#normalized = !trusted;
  }

  #list(): string[] {
    const pairs = this.#pairs;
    if (!this.#normalized) {
      this.#normalized = true;
      for (let index = 0; index < pairs.length; index += 2) {
        const name = pairs[index]!;
        // Most names arrive lower-case already: only copy those that are not.
        for (let at = 0; at < name.length; at++) {
          const code = name.charCodeAt(at);
          if (code >= 0x41 && code <= 0x5a) {
            pairs[index] = name.toLowerCase();
            break;
          }
        }
      }
    }
    return pairs;
  }

  get(name: string): string | null {
    const key = lowerName(name);
    const pairs = this.#list();
    let found: string | null = null;
    // Repeated values are joined as undici joins them: `; ` for cookies, `, ` for the rest.
    const separator = key === 'cookie' ? '; ' : ', ';
    for (let index = 0; index < pairs.length; index += 2) {
      if (pairs[index] === key)
        found = found === null ? pairs[index + 1]! : `${found}${separator}${pairs[index + 1]}`;
    }
    return found;
  }

  has(name: string): boolean {
    const key = lowerName(name);
    const pairs = this.#list();
    for (let index = 0; index < pairs.length; index += 2) if (pairs[index] === key) return true;
    return false;
  }

  set(name: string, value: string): void {
    const key = checkedName(name);
    const text = checkedValue(value);
    this.#remove(key);
    this.#pairs.push(key, text);
  }

  append(name: string, value: string): void {
    const key = checkedName(name);
    const text = checkedValue(value);
    this.#list().push(key, text);
  }

  delete(name: string): void {
    this.#remove(checkedName(name));
  }

  getSetCookie(): string[] {
    const pairs = this.#list();
    const cookies: string[] = [];
    for (let index = 0; index < pairs.length; index += 2) {
      if (pairs[index] === 'set-cookie') cookies.push(pairs[index + 1]!);
    }
    return cookies;
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) {
      callback.call(thisArg, value, name, this as unknown as Headers);
    }
  }

  *entries(): HeadersIterator<[string, string]> {
    const pairs = this.#list();
    const names = new Set<string>();
    for (let index = 0; index < pairs.length; index += 2) names.add(pairs[index]!);
    for (const name of [...names].sort()) {
      if (name === 'set-cookie') for (const cookie of this.getSetCookie()) yield [name, cookie];
      else yield [name, this.get(name)!];
    }
  }

  *keys(): HeadersIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): HeadersIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): HeadersIterator<[string, string]> {
    return this.entries();
  }

  /** The entries as they were given or added: `[name, value, name, value, …]`, names lower-case. */
  [HEADER_PAIRS](): readonly string[] {
    return this.#list();
  }

  #remove(key: string): void {
    const pairs = this.#list();
    let kept = 0;
    for (let index = 0; index < pairs.length; index += 2) {
      if (pairs[index] === key) continue;
      pairs[kept++] = pairs[index]!;
      pairs[kept++] = pairs[index + 1]!;
    }
    pairs.length = kept;
  }
}

Object.setPrototypeOf(LightHeaders.prototype, Headers.prototype);
Object.defineProperty(LightHeaders.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  configurable: true,
  value(this: LightHeaders) {
    return Object.fromEntries(this.entries());
  },
});

/** Which ASCII codes an RFC 9110 token (a header name) may hold: 1 for a character that may. */
const TOKEN_CODES = new Uint8Array(128);
for (const character of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CODES[character.charCodeAt(0)] = 1;
}

/**
 * A name to look up, lower-case; a TypeError for an invalid one, as undici's `get`/`has` throw. One
 * pass over the characters: this runs on every read of the request path.
 */
function lowerName(name: string): string {
  const text = String(name);
  let upper = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code >= 128 || TOKEN_CODES[code] === 0) {
      throw new TypeError(`Invalid header name: ${JSON.stringify(text)}.`);
    }
    if (code >= 0x41 && code <= 0x5a) upper = true;
  }
  if (text.length === 0) throw new TypeError('Invalid header name: "".');
  return upper ? text.toLowerCase() : text;
}

/**
 * The headers of a response the core builds, as a {@link LightHeaders}: a copy of the given
 * `Headers`, or the given record or pairs (checked unless `trusted`).
 */
export function lightHeadersOf(init: HeadersInit | undefined, trusted = false): Headers {
  const fromHeaders = init instanceof Headers;
  return new LightHeaders(init as LightHeadersInit | undefined, trusted || fromHeaders) as unknown as Headers;
}
