import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FusionError, InvalidRequestError, PayloadTooLargeError, TimeoutError } from '@fusionkit/core';
import { abortReason } from '@fusionkit/core/internal';
import { refusalReason } from './address-policy.js';

/** Resolves a host name to its addresses (for tests: a fake DNS). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface SafeFetchOptions {
  /** Permit loopback, private, link-local and other non-public addresses. For trusted setups and tests. @default false */
  allowPrivateNetwork?: boolean;
  /** Addresses permitted despite the policy. @example ['127.0.0.1'] */
  allowAddresses?: readonly string[];
  /** Largest body, after decompression; more → 413. @default 10 MiB */
  maxBytes?: number;
  /** Deadline for the whole fetch, redirects included; past it → 504. @default 30_000 */
  timeoutMs?: number;
  /** Redirects followed (each re-checked); more → 400. @default 5 */
  maxRedirects?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** @default `dns.lookup` with `all: true` */
  resolve?: ResolveHost;
}

/** A fetched body and where it finally came from. */
export interface FetchedResource {
  /** The last URL, after redirects. */
  url: string;
  status: number;
  contentType?: string;
  bytes: Uint8Array;
  /** Every URL visited before the final one. */
  redirects: string[];
}

const defaultResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

function refused(message: string, cause?: unknown): InvalidRequestError {
  return new InvalidRequestError(message, { code: 'url_not_allowed', param: 'url', cause });
}

/**
 * GETs a URL given by a client without letting it reach the server's own network: only `http:` and
 * `https:`; the address actually connected to must be public (checked in the socket's DNS `lookup`,
 * so a DNS answer that changes between check and use changes nothing, and again on `connect`);
 * redirects are followed by hand and each hop is checked the same way; the body is capped in bytes
 * (after decompression) and the whole fetch in time.
 */
export async function safeFetch(url: string, options: SafeFetchOptions = {}): Promise<FetchedResource> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const maxRedirects = options.maxRedirects ?? 5;
  const redirects: string[] = [];
  let current = parseTarget(url);
  for (;;) {
    const response = await request(current, options, signal);
    const location = response.headers.location;
    if (response.statusCode && [301, 302, 303, 307, 308].includes(response.statusCode) && location) {
      response.resume();
      if (redirects.length >= maxRedirects) throw refused(`More than ${maxRedirects} redirects from ${url}`);
      redirects.push(current.href);
      current = parseTarget(location, current);
      continue;
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.resume();
      throw fetchFailed(`Fetching ${current.href} answered HTTP ${status}`, undefined);
    }
    const bytes = await readBody(response, options.maxBytes ?? 10 * 1024 * 1024, signal, current);
    const contentType = response.headers['content-type'];
    return { url: current.href, status, bytes, redirects, ...(contentType ? { contentType } : {}) };
  }
}

/**
 * Checks a URL without fetching it: the scheme, and every address its host resolves to (an IP literal
 * as written). For refusing a client's URL at once, naming its field, before work is queued; the
 * fetch checks again on connect, so a DNS answer that changes in between gains nothing.
 */
export async function checkUrl(url: string, options: SafeFetchOptions = {}): Promise<URL> {
  const target = parseTarget(url);
  if (options.allowPrivateNetwork) return target;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    checkAddress(host, host, options);
    return target;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await (options.resolve ?? defaultResolve)(host);
  } catch (error) {
    throw fetchFailed(`${host} could not be resolved`, error);
  }
  if (addresses.length === 0) throw refused(`${host} has no address`);
  for (const entry of addresses) checkAddress(entry.address, host, options);
  return target;
}

/** The URL could not be fetched for a reason of its own (no such host, refused connection, bad TLS). */
function fetchFailed(message: string, cause: unknown): FusionError {
  return new FusionError({ message, code: 'url_fetch_failed', status: 422, param: 'url', cause });
}

function parseTarget(input: string, base?: URL): URL {
  let target: URL;
  try {
    target = new URL(input, base);
  } catch (error) {
    throw new InvalidRequestError(`Not a valid URL: ${input}`, {
      code: 'invalid_url',
      param: 'url',
      cause: error,
    });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw refused(`Only http: and https: URLs can be fetched, not ${target.protocol}`);
  }
  return target;
}

function checkAddress(address: string, host: string, options: SafeFetchOptions): void {
  if (options.allowPrivateNetwork || options.allowAddresses?.includes(address)) return;
  const reason = refusalReason(address);
  if (reason) throw refused(`${host} resolves to ${address}, a ${reason} address: refused`);
}

/** A `lookup` for `net.connect` that only hands over addresses the policy allows. */
function guardedLookup(options: SafeFetchOptions): LookupFunction {
  const resolve = options.resolve ?? defaultResolve;
  return ((hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    resolve(hostname).then(
      (addresses) => {
        try {
          if (addresses.length === 0) throw refused(`${hostname} has no address`);
          // Every answer is checked: a mix of public and private addresses is refused as a whole.
          for (const entry of addresses) checkAddress(entry.address, hostname, options);
          if (lookupOptions.all) callback(null, addresses);
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        } catch (error) {
          callback(error);
        }
      },
      (error: unknown) => callback(error),
    );
  }) as LookupFunction;
}

function request(target: URL, options: SafeFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // An IP literal never reaches `lookup`: check it here (the URL parser already normalised its spelling).
    if (isIP(host)) checkAddress(host, host, options);
    const transport = target.protocol === 'https:' ? https : http;
    const outgoing = transport.request(target, {
      method: 'GET',
      agent: false,
      lookup: guardedLookup(options),
      signal,
      headers: { 'accept-encoding': 'gzip, deflate, br', 'user-agent': 'fusionkit-rag', ...options.headers },
    });
    outgoing.on('socket', (socket) => {
      socket.once('connect', () => {
        try {
          checkAddress(socket.remoteAddress ?? '', host, options);
        } catch (error) {
          outgoing.destroy(error as Error);
        }
      });
    });
    outgoing.on('response', resolve);
    outgoing.on('error', (error) => {
      if (signal.aborted) reject(fetchAbortError(signal, target));
      else if (FusionError.isInstance(error)) reject(error);
      else reject(fetchFailed(`Fetching ${target.href} failed: ${error.message}`, error));
    });
    outgoing.end();
  });
}

function fetchAbortError(signal: AbortSignal, target: URL): Error {
  const reason = abortReason(signal);
  if (reason instanceof TimeoutError || (signal.reason as Error | undefined)?.name === 'TimeoutError') {
    return new TimeoutError(`Fetching ${target.href} took too long`, {
      code: 'url_fetch_timeout',
      param: 'url',
    });
  }
  return reason;
}

async function readBody(
  response: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
  target: URL,
): Promise<Uint8Array> {
  const tooLarge = () =>
    new PayloadTooLargeError(`The document is larger than ${maxBytes} bytes`, { param: 'url' });
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes && !response.headers['content-encoding']) {
    response.destroy();
    throw tooLarge();
  }
  const encoding = response.headers['content-encoding']?.toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  const stream = decoder ? response.pipe(decoder) : response;
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const part of stream as AsyncIterable<Buffer>) {
      total += part.length;
      if (total > maxBytes) throw tooLarge();
      parts.push(part);
    }
  } catch (error) {
    response.destroy();
    decoder?.destroy();
    if (signal.aborted) throw fetchAbortError(signal, target);
    throw error;
  }
  return new Uint8Array(Buffer.concat(parts, total));
}
