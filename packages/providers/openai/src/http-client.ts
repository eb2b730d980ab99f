import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { FusionError } from '@fusionkit/core';
import type { Abortable } from '@fusionkit/core/internal';
import { IdleSocketReaper } from './idle-socket-reaper.js';
import { UpstreamExchange } from './upstream-exchange.js';

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** Provider id, for error messages. */
  providerId: string;
  /** Base URL of the OpenAI-compatible API, with its `/v1`. @example 'http://127.0.0.1:8000/v1' */
  baseURL: string;
  /** Headers sent with every request (authorization, user agent, the user's own). Keys lower-case. */
  headers: Record<string, string>;
  /** Connections open at once to the upstream; `Infinity` for no cap (the orchestrator queues). */
  maxSockets: number;
  /** Idle pooled connections are closed after this long, before the server's keep-alive timeout. */
  freeSocketTimeoutMs: number;
}

/** One request to the upstream. */
export interface HttpRequestOptions {
  method: 'GET' | 'POST';
  /** Path below the base URL (`/chat/completions`), or below the origin when `fromOrigin` is set. */
  path: string;
  /** Resolve `path` against the server root (`/health`) instead of the base URL. */
  fromOrigin?: boolean;
  /** Serialised as JSON. */
  body?: unknown;
  /** A body sent as it is, with its own content type (a multipart form); instead of `body`. */
  rawBody?: { bytes: Buffer; contentType: string };
  /** Per-call headers (`x-request-id`, headers the orchestrator forwards). */
  headers?: Record<string, string>;
  signal?: Abortable | undefined;
  /** See {@link UpstreamExchange}. */
  timeoutMs?: number;
  onFailure?: (error: FusionError) => void;
}

/** A fully read response. */
export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as text (for error messages). */
  text: string;
  /** The parsed body; `undefined` when it is not JSON. */
  body: unknown;
}

/**
 * `node:http(s)` client of one upstream with a pool of keep-alive connections. Global `fetch` is
 * kept off this path on purpose: through a proxy it costs several times the CPU per request.
 */
export class HttpClient {
  /** Base URL without a trailing slash. */
  readonly baseURL: string;
  readonly #options: HttpClientOptions;
  readonly #agent: http.Agent;
  readonly #reaper: IdleSocketReaper;
  readonly #secure: boolean;
  readonly #hostname: string;
  readonly #port: number | undefined;
  readonly #basePath: string;
  readonly #originPath: string;
  /** The `Host` header node:http would send for this URL (brackets around IPv6, a port unless the default). */
  readonly #hostHeader: string;

  constructor(options: HttpClientOptions) {
    const url = new URL(options.baseURL);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`baseURL must be an http(s) URL, got '${options.baseURL}'.`);
    }
    this.#options = options;
    this.#secure = url.protocol === 'https:';
    this.#hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#port = url.port === '' ? undefined : Number(url.port);
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#originPath = this.#basePath.replace(/\/v\d+$/, '');
    this.#hostHeader = url.host;
    this.baseURL = `${url.origin}${this.#basePath}`;
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: options.maxSockets,
      scheduling: 'lifo',
      // No `timeout`: idle connections are closed by the reaper, which costs a request far less.
    };
    this.#agent = this.#secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#reaper = new IdleSocketReaper(this.#agent, options.freeSocketTimeoutMs);
  }

  /** Sends a request; the returned exchange gives the response and owns its lifetime. */
  send(options: HttpRequestOptions): UpstreamExchange {
    const raw = options.rawBody;
    // JSON goes as a string: node:http then sends it in one write with the head (a Buffer would be a
    // second chunk of a writev, and one more copy).
    const body: Buffer | string | undefined =
      raw?.bytes ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    // `Object.assign` onto a new object, not `{ ...this.#options.headers, ... }`: spreading the client's
    // long-lived headers first made each request's headers a clone of their map, and measured on
    // Node 20 that kept every call's objects alive through young-generation collections (a chat
    // through `provider.doChat` promoted ~190 KB per scavenge to the old generation; with this, none).
    const headers: Record<string, string> = Object.assign({}, this.#options.headers, options.headers);
    headers.accept ??= 'application/json';
    if (body !== undefined) {
      headers['content-type'] = raw?.contentType ?? 'application/json';
      headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    }
    // Handed to node:http as a flat list (`[name, value, …]`), in the same order and with the same
    // `Host` it would add itself: given an object, it copies each header into its own map through
    // `setHeader` (a `[name, value]` array per header and a dictionary per request), which measured
    // on Node 20 as ~1.8 KB allocated per call. The names here are lower-case and unique already, as
    // `setHeader` would make them; a list is checked (names, values) when its head is written, as
    // the object's entries were by `setHeader`.
    const headerList: string[] = [];
    for (const name in headers) headerList.push(name, headers[name]!);
    if (headers.host === undefined) headerList.push('Host', this.#hostHeader);
    const path = (options.fromOrigin ? this.#originPath : this.#basePath) + options.path;
    const requestOptions: http.RequestOptions = {
      method: options.method,
      hostname: this.#hostname,
      port: this.#port,
      path,
      headers: headerList,
      agent: this.#agent,
    };
    // `http.request` is looked up at call time so interceptors (msw in tests) that patch it apply.
    const createRequest = this.#secure
      ? () => https.request(requestOptions)
      : () => http.request(requestOptions);
    return new UpstreamExchange({
      createRequest,
      body,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      providerId: this.#options.providerId,
      onFailure: options.onFailure,
    });
  }

  /** Sends a request and reads its whole body, whatever the status. Throws only when no answer came. */
  fetchJson(options: HttpRequestOptions & { maxBytes: number }): Promise<JsonResponse> {
    const exchange = this.send(options);
    return exchange.readBody(options.maxBytes).then((bytes) => {
      const response = exchange.incoming!;
      const text = bytes.toString('utf8');
      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      return { status: response.statusCode ?? 0, headers: response.headers, text, body };
    });
  }

  /** Closes every pooled connection. */
  close(): void {
    this.#reaper.close();
    this.#agent.destroy();
  }
}
