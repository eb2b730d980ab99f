import { PermissionDeniedError } from '../errors/permission-denied-error.js';
import { UnsupportedMediaTypeError } from '../errors/unsupported-media-type-error.js';
import { REQUEST_BYTES } from './read-json-body.js';

/**
 * Who may reach `handle` from where: the cross-site guard every request passes before its route.
 * The defaults protect a server on a developer's machine from web pages open in the same browser.
 */
export interface SecurityOptions {
  /**
   * Host names the `Host` header may name (any port), besides those always allowed: `localhost`,
   * `*.localhost` and IP addresses (a DNS-rebinding page can only send a name its attacker owns).
   * Other hosts get 403. `'.example.com'` allows the domain and its subdomains; `'*'` allows any
   * host (for a server reached only through a proxy that checks the host itself).
   * @example ['fusion.lan', '.example.com']
   * @default [] (localhost, *.localhost and IP addresses)
   */
  allowedHosts?: string[];
  /**
   * Browser origins allowed to call across origins, answered with CORS headers (and their
   * preflights). `'https://app.example.com'` is that origin exactly; a bare host name allows it on
   * any scheme and port; `'*'` allows every origin. A request from its own origin always passes, and
   * so does one without `Origin` (curl, SDKs, servers) unless a browser marks it as sent by a page of
   * another site (`Sec-Fetch-Site`: an image, script or frame; a link the user follows passes); any
   * other `Origin`, `null` included, gets 403.
   * @example ['http://localhost:5173', 'https://app.example.com']
   * @default [] (same-origin only)
   */
  allowedOrigins?: string[];
}

/** Headers a page may read from a cross-origin answer (besides the CORS-safelisted ones). */
const EXPOSED_HEADERS =
  'x-request-id, x-fusion-trace-id, retry-after, location, mcp-session-id, mcp-protocol-version';

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const JSON_HINT = 'send it as JSON with `Content-Type: application/json`';

/** The authority (`host[:port]`) of an absolute URL, without building a `URL`. */
function authorityOf(url: string): string {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd === -1) return '';
  const start = schemeEnd + 3;
  let end = url.length;
  for (let index = start; index < end; index++) {
    const code = url.charCodeAt(index);
    if (code === 0x2f /* / */ || code === 0x3f /* ? */ || code === 0x23 /* # */) end = index;
  }
  return url.slice(start, end);
}

/** The host name of an authority, lower-cased and without its port (`[::1]` keeps its brackets). */
function hostNameOf(authority: string): string {
  let end: number;
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    const close = authority.indexOf(']');
    end = close === -1 ? authority.length : close + 1;
  } else {
    const colon = authority.indexOf(':');
    end = colon === -1 ? authority.length : colon;
  }
  return authority.slice(0, end).toLowerCase();
}

/** Whether `origin` (`scheme://authority`, lower-cased) names the authority `host`. */
function sameAuthority(origin: string, authority: string, host: string): boolean {
  if (authority === host) return true;
  // Browsers leave a default port out of `Origin`; a client may still put it in `Host`.
  const port = origin.startsWith('https:') ? ':443' : ':80';
  return host.length === authority.length + port.length && host.startsWith(authority) && host.endsWith(port);
}

/** `type/subtype` of a `Content-Type` value, lower-cased, without parameters. */
function mediaTypeOf(value: string): string {
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Whether a request carries a body: by its framing headers, else (no node socket behind it) by its stream. */
function hasBody(request: Request, headers: Headers): boolean {
  const length = headers.get('content-length');
  if (length !== null) return length.trim() !== '0';
  if (headers.has('transfer-encoding')) return true;
  // The node adapter's requests always have framing headers when they have a body; asking them for
  // `body` would build a stream for nothing.
  return !(REQUEST_BYTES in request) && request.body !== null;
}

/** A header value quoted in an error message, cut short. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

/**
 * The cross-site guard of `handle`: a `Host` allowlist against DNS rebinding, an `Origin` check
 * against cross-site requests, JSON-only bodies on state-changing routes (so that no CORS "simple
 * request" gets through), and CORS for the configured origins. A few string comparisons per request.
 */
export class RequestGuard {
  readonly #anyHost: boolean;
  readonly #hosts = new Set<string>();
  readonly #hostSuffixes: string[] = [];
  readonly #anyOrigin: boolean;
  readonly #origins = new Set<string>();
  readonly #originHosts = new Set<string>();

  constructor(options: SecurityOptions = {}) {
    const hosts = (options.allowedHosts ?? []).map((entry) => entry.trim().toLowerCase()).filter(Boolean);
    this.#anyHost = hosts.includes('*');
    for (const entry of hosts) {
      if (entry.startsWith('.')) this.#hostSuffixes.push(entry);
      else this.#hosts.add(hostNameOf(entry.includes('://') ? authorityOf(entry) : entry));
    }
    const origins = (options.allowedOrigins ?? [])
      .map((entry) => entry.trim().toLowerCase().replace(/\/+$/, ''))
      .filter(Boolean);
    this.#anyOrigin = origins.includes('*');
    for (const entry of origins) {
      if (entry.includes('://')) this.#origins.add(entry);
      else this.#originHosts.add(hostNameOf(entry));
    }
  }

  /**
   * Checks `Host` and `Origin` (403 in OpenAI's error shape). Returns the `Origin` to answer with
   * CORS headers when it is an allowed other origin; `undefined` for no `Origin` or the server's own.
   */
  checkSite(request: Request): string | undefined {
    const headers = request.headers;
    const header = headers.get('host');
    // HTTP/2 and some runtimes give no `Host`: the URL carries it then.
    const host = (header ?? authorityOf(request.url)).toLowerCase();
    if (!this.#allowsHost(hostNameOf(host))) {
      throw new PermissionDeniedError(
        `The host ${quoted(host)} is not allowed: add its name to \`security.allowedHosts\`.`,
        { code: 'host_not_allowed' },
      );
    }
    const origin = headers.get('origin');
    if (origin === null) {
      this.#checkFetchSite(headers, request.method.toUpperCase());
      return undefined;
    }
    const lower = origin.toLowerCase();
    if (lower !== 'null') {
      const authority = authorityOf(lower);
      if (authority !== '') {
        if (sameAuthority(lower, authority, host)) return undefined;
        // Behind a trusted proxy (or in Next.js) the URL names the public host the page sees.
        if (header !== null && sameAuthority(lower, authority, authorityOf(request.url).toLowerCase())) {
          return undefined;
        }
        if (this.#anyOrigin || this.#origins.has(lower) || this.#originHosts.has(hostNameOf(authority))) {
          return origin;
        }
      }
    }
    throw new PermissionDeniedError(
      `Requests from the origin ${quoted(origin)} are not allowed: add it to \`security.allowedOrigins\`.`,
      { code: 'origin_not_allowed' },
    );
  }

  /**
   * 415 unless the body of a state-changing request is JSON, or of a media type the route accepts
   * (`accepts`, e.g. `multipart/form-data` for uploads; `*\/*` for any). Bodyless requests pass.
   */
  checkBody(request: Request, method: string, accepts?: readonly string[]): void {
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return;
    const headers = request.headers;
    const value = headers.get('content-type');
    let type = '';
    if (value === null) {
      if (!hasBody(request, headers)) return;
    } else {
      type = mediaTypeOf(value);
      if (isJsonType(type)) return;
      if (accepts !== undefined && (accepts.includes(type) || accepts.includes('*/*'))) return;
    }
    const others = accepts?.filter((accepted) => accepted !== '*/*') ?? [];
    const hint =
      others.length > 0
        ? `${JSON_HINT} (or as ${others.map((item) => `\`${item}\``).join(', ')})`
        : JSON_HINT;
    throw new UnsupportedMediaTypeError(
      value === null
        ? `The request body has no Content-Type: ${hint}.`
        : `The request body's Content-Type ${quoted(value)} is not accepted here: ${hint}.`,
    );
  }

  /**
   * A request without `Origin` that a browser still marks as coming from a page of another site
   * (`Sec-Fetch-Site: cross-site` or `same-site`): an `<img>`, `<script>`, `<link>` or frame, which a
   * browser sends without `Origin`. Only a top-level GET navigation (a link the user follows) passes:
   * its answer goes to the user, never to the page. Clients other than browsers send no such header.
   */
  #checkFetchSite(headers: Headers, method: string): void {
    const site = headers.get('sec-fetch-site');
    if (site === null || this.#anyOrigin) return;
    const lower = site.toLowerCase();
    if (lower !== 'cross-site' && lower !== 'same-site') return;
    if (
      (method === 'GET' || method === 'HEAD') &&
      headers.get('sec-fetch-mode') === 'navigate' &&
      headers.get('sec-fetch-dest') === 'document'
    ) {
      return;
    }
    const destination = headers.get('sec-fetch-dest');
    throw new PermissionDeniedError(
      `Requests from a page of another site are not allowed (Sec-Fetch-Site: ${quoted(site)}${destination === null ? '' : `, Sec-Fetch-Dest: ${quoted(destination)}`}): call the API with fetch from an origin in \`security.allowedOrigins\`.`,
      { code: 'origin_not_allowed' },
    );
  }

  #allowsHost(name: string): boolean {
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    if (name.charCodeAt(0) === 0x5b /* [ */ || IPV4.test(name)) return true;
    if (this.#anyHost || this.#hosts.has(name)) return true;
    for (const suffix of this.#hostSuffixes) {
      if (name.endsWith(suffix) || name === suffix.slice(1)) return true;
    }
    return false;
  }
}

/** The answer to a CORS preflight from an allowed origin: the methods the path has, any headers asked for. */
export function preflightResponse(
  request: Request,
  origin: string,
  methods: readonly string[],
  requestId: string,
): Response {
  const headers: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': methods.join(', '),
    'access-control-max-age': '600',
    allow: methods.join(', '),
    vary: 'origin, access-control-request-method, access-control-request-headers',
    'x-request-id': requestId,
  };
  const asked = request.headers.get('access-control-request-headers');
  if (asked) headers['access-control-allow-headers'] = asked;
  return new Response(null, { status: 204, headers });
}

/** The response with the CORS headers of an allowed cross-origin request. */
export function withCors(response: Response, origin: string): Response {
  const set = (headers: Headers) => {
    headers.set('access-control-allow-origin', origin);
    headers.set('access-control-expose-headers', EXPOSED_HEADERS);
    headers.append('vary', 'origin');
  };
  try {
    set(response.headers);
    return response;
  } catch {
    // Responses from `fetch` have immutable headers.
    const headers = new Headers(response.headers);
    set(headers);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}
