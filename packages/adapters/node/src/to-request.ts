import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AbortScope } from '@fusionkit/core/internal';
import { DEFAULT_MAX_BODY_BYTES } from './body-too-large-error.js';
import { LightRequest, NodeRequest, type RequestInitWithDuplex } from './node-request.js';
import { parsedRequestBody } from './parsed-request-body.js';

/** Options of {@link toRequest}. */
export interface ToRequestOptions {
  /**
   * Largest body read from the socket, in bytes. A body that passes it mid-way errors the body stream
   * with a `PayloadTooLargeError`-shaped error (`status` 413), and the connection is closed after the
   * answer. @default 4 MiB
   */
  maxBodyBytes?: number;
  /**
   * Prefix put in front of `request.url` when building the URL, for frameworks that strip their mount
   * path from it (Express's `app.use('/ai', …)`). Nothing is stripped. @example '/ai' @default ''
   */
  basePath?: string;
  /** Take protocol and host from `x-forwarded-proto` and `x-forwarded-host`. @default false */
  trustProxy?: boolean;
  /**
   * The body, when something already read it from the stream (e.g. `express.json()`). When omitted
   * and the stream was consumed, `request.rawBody` or `request.body` is used.
   */
  body?: BodyInit | Uint8Array;
}

/** A host (reg-name, IPv4 or IPv6 literal) and optional port, nothing that could change the path. */
const VALID_HOST = /^(?:\[[\da-fA-F:.]+\]|[\w.~%!$&'()*+,;=-]+)(?::\d{1,5})?$/;

/** Headers that describe the original bytes of the body, wrong once the body is given another way. */
const BODY_FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'content-encoding']);

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  return (comma === -1 ? value : value.slice(0, comma)).trim();
}

function requestUrl(request: IncomingMessage, options: ToRequestOptions): string {
  const headers = request.headers;
  let protocol = (request.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
  let host = headers.host ?? (headers[':authority'] as string | undefined);
  if (options.trustProxy) {
    const forwardedProto = firstValue(headers['x-forwarded-proto']);
    if (forwardedProto === 'http' || forwardedProto === 'https') protocol = forwardedProto;
    host = firstValue(headers['x-forwarded-host']) || host;
  }
  if (host === undefined) {
    // `serve()` lets Host-less requests through to answer them here, in the API's error shape.
    if (request.httpVersion === '1.1') throw new TypeError('An HTTP/1.1 request needs a Host header.');
    host = 'localhost';
  } else if (!VALID_HOST.test(host)) throw new TypeError(`Invalid Host header: ${JSON.stringify(host)}.`);

  let path = request.url ?? '/';
  if (path.charCodeAt(0) !== 0x2f /* / */) {
    // Absolute form (sent to proxies) or `OPTIONS *`.
    if (path === '*') path = '/';
    else {
      const absolute = new URL(path);
      path = absolute.pathname + absolute.search;
    }
  }
  return `${protocol}://${host}${options.basePath ?? ''}${path}`;
}

function requestHeaders(request: IncomingMessage, skip: ReadonlySet<string> | undefined): [string, string][] {
  const raw = request.rawHeaders;
  const headers: [string, string][] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    // HTTP/2 pseudo headers (`:path`, `:authority`) are not headers to the Fetch API.
    if (name.charCodeAt(0) === 0x3a /* : */) continue;
    if (skip?.has(name.toLowerCase())) continue;
    headers.push([name, raw[index + 1]!]);
  }
  return headers;
}

/** Whether the message has a body at all: HTTP/1.1 frames request bodies only by these two headers. */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Turns a node:http request into a Fetch `Request`. Its body streams from the socket
 * (`duplex: 'half'`) under the size limit; its `signal` aborts when the client goes away before the
 * response is finished (the response's `close`, since the request's own `close` fires as soon as the
 * body has been read).
 *
 * @throws TypeError when the request cannot be one (bad `Host`, a method Fetch refuses, a body that
 *   something else read and did not leave on the request).
 */
export function toRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: ToRequestOptions = {},
): Request {
  const method = request.method ?? 'GET';
  const url = requestUrl(request, options);

  // A scope, not an AbortController: its signal is made only if something reads `request.signal`.
  const scope = new AbortScope();
  const onClose = () => {
    if (!response.writableFinished) {
      scope.abort(new DOMException('The client closed the connection.', 'AbortError'));
    }
  };
  if (response.destroyed) onClose();
  else response.once('close', onClose);

  const init: RequestInitWithDuplex = { method };
  if (method === 'GET' || method === 'HEAD') {
    return new LightRequest(method, url, requestHeaders(request, undefined), scope) as unknown as Request;
  }

  if (options.body !== undefined) {
    init.headers = requestHeaders(request, BODY_FRAMING_HEADERS);
    init.body = options.body as BodyInit;
  } else if (request.readableDidRead || request.readableEnded) {
    const parsed = parsedRequestBody(request);
    if (!parsed) throw new TypeError('The request body was already read; pass it as `options.body`.');
    // The client's Content-Type stays: a form or text body that a parser turned into an object is
    // still not a JSON request (the core refuses it with 415, as it would the raw body).
    init.headers = requestHeaders(request, BODY_FRAMING_HEADERS);
    init.body = parsed.body;
  } else {
    const headers = requestHeaders(request, undefined);
    // The body stays on the socket until read: as bytes by the core, as a stream by anyone else.
    const source = hasBody(request)
      ? {
          incoming: request,
          limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
          onTooLarge: () => {
            // The rest of the body stays unread: the connection cannot carry another request.
            if (!response.headersSent) response.setHeader('connection', 'close');
          },
        }
      : undefined;
    return new LightRequest(method, url, headers, scope, source) as unknown as Request;
  }
  init.duplex = 'half';
  return new NodeRequest(url, init, scope);
}
