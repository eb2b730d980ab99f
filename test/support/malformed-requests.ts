/**
 * Malformed requests for every route, as fast-check arbitraries, and the checks every answer must
 * pass (the project's hard rule: bad input gets a clear 4xx in the route's error shape, never a 5xx,
 * a hang or a crash). Used by the property tests of `fusion serve` and of the adapters.
 *
 * A request is drawn for one route of a {@link RouteSpec} table: its own method (mostly) or another,
 * its path with odd parameters, slashes, encodings and query strings, a content type, and a body that
 * is a valid template with fields replaced by wrong types, huge or negative numbers, NaN-like strings,
 * long or odd unicode strings, deep nesting, unknown fields or duplicate keys; or JSON of the wrong
 * type, invalid JSON, invalid UTF-8, an empty body, or a multipart form.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import fc from 'fast-check';

/** The error body a route answers with: OpenAI's, Anthropic's (`/v1/messages`), or MCP's JSON-RPC. */
export type ErrorShape = 'openai' | 'anthropic' | 'mcp';

/** One route as the fuzzer sees it. */
export interface RouteSpec {
  method: string;
  /** With `:name` and `*name` parameters. */
  path: string;
  /** A valid body to start from (JSON routes). */
  body?: Record<string, unknown>;
  /** Form fields of a valid multipart body (multipart routes). */
  form?: Record<string, string>;
  /** Query parameters the route reads. */
  query?: string[];
  /** Values of the path's parameters that name something that exists, by parameter name. */
  params?: Record<string, string[]>;
  shape?: ErrorShape;
}

/** A request to send as it is. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | undefined;
  /** What the body is, for reports. */
  note: string;
}

/** An answer as read in full. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** JSON text emitted as it is by {@link jsonText} (numbers JSON cannot express, duplicate keys). */
class RawJson {
  constructor(readonly text: string) {}
}

/** An object whose key appears twice in its JSON text. */
class DuplicateKeys {
  constructor(
    readonly value: Record<string, unknown>,
    readonly key: string,
    readonly other: unknown,
  ) {}
}

function isA<T>(value: unknown, type: new (...args: never[]) => T): value is T {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === type.prototype;
}

/** JSON text of a value that may hold {@link RawJson} and {@link DuplicateKeys}. */
export function jsonText(value: unknown): string {
  // Prototypes are checked exactly: a changed body may hold a '__proto__' key of its own.
  if (isA(value, RawJson)) return value.text;
  if (isA(value, DuplicateKeys)) {
    const inner = jsonText(value.value);
    const extra = `${JSON.stringify(value.key)}:${jsonText(value.other)}`;
    return inner === '{}' ? `{${extra}}` : `${inner.slice(0, -1)},${extra}}`;
  }
  if (Array.isArray(value)) return `[${value.map((item) => jsonText(item) ?? 'null').join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${jsonText(item)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = asArray ? [value] : { a: value };
  return value;
}

/** Values a field should never take: wrong types, odd numbers and strings, long and deep values. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1, -0.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 53), 1e308, -1e308),
  fc
    .constantFrom('1e999', '-1e999', '1e-999', '123456789012345678901234567890', '-0', '0.0000001')
    .map((text) => new RawJson(text)),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-1', '1e999', '0x10', 'null', 'true', '', ' ', '\u0000'),
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.constantFrom(
    '\ud800',
    '\udfff',
    'a\ud83d',
    '\u202e\u200b',
    '💥'.repeat(50),
    '\r\n\r\n',
    '../../etc/passwd',
  ),
  fc.integer({ min: 1_000, max: 200_000 }).map((length) => 'x'.repeat(length)),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), {
    maxKeys: 3,
  }),
  fc
    .tuple(fc.integer({ min: 1, max: 200 }), fc.boolean())
    .map(([depth, asArray]) => nested(depth, 'deep', asArray)),
  fc.integer({ min: 1_000, max: 20_000 }).map((length) => Array.from({ length }, (_, index) => index)),
);

/** Every path to a field of a template (objects and arrays), shallow first. */
function fieldPaths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (typeof value !== 'object' || value === null) return out;
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  for (const [key, item] of entries) {
    const path = [...prefix, key];
    out.push(path);
    if (path.length < 4) fieldPaths(item, path, out);
  }
  return out;
}

function cloneDeep<T>(value: T): T {
  return structuredClone(value);
}

function setAt(target: unknown, path: (string | number)[], value: unknown, remove: boolean): void {
  let parent = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = parent[key];
    if (typeof next !== 'object' || next === null) return;
    parent = next as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else Object.defineProperty(parent, last, { value, enumerable: true, configurable: true, writable: true });
}

type Mutation =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'remove'; pick: number }
  | { kind: 'unknown'; name: string; value: unknown }
  | { kind: 'duplicate'; pick: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('unknown' as const),
      name: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString')),
      value: oddValue,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat(), value: oddValue }),
  },
);

/** A template with some of its fields changed, as JSON text. */
function mutatedJson(template: Record<string, unknown>, mutations: Mutation[]): string {
  let body: unknown = cloneDeep(template);
  for (const change of mutations) {
    const paths = fieldPaths(body);
    if (change.kind === 'unknown') {
      // An own property even for '__proto__', as JSON.parse makes it.
      Object.defineProperty(body instanceof DuplicateKeys ? body.value : body, change.name, {
        value: change.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      continue;
    }
    if (paths.length === 0) continue;
    const path = paths[change.pick % paths.length]!;
    if (change.kind === 'duplicate') {
      if (path.length === 1 && !(body instanceof DuplicateKeys)) {
        body = new DuplicateKeys(body as Record<string, unknown>, String(path[0]), change.value);
      }
      continue;
    }
    const target = body instanceof DuplicateKeys ? body.value : body;
    if (change.kind === 'remove') setAt(target, path, undefined, true);
    else setAt(target, path, change.value, false);
  }
  return jsonText(body);
}

const encoder = new TextEncoder();

/** Bodies for a JSON route: a changed template mostly, else every other kind of bad body. */
function jsonBody(
  template: Record<string, unknown> | undefined,
): fc.Arbitrary<{ body?: Uint8Array; note: string }> {
  const valid = template ?? { model: 'lab/qwen2.5-0.5b-instruct-4bit' };
  const text = (value: string, note: string) => ({ body: encoder.encode(value), note });
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .array(mutation, { minLength: 1, maxLength: 3 })
        .map((changes) => text(mutatedJson(valid, changes), 'changed template')),
    },
    { weight: 1, arbitrary: fc.constant(text(JSON.stringify(valid), 'template')) },
    {
      weight: 2,
      arbitrary: oddValue.map((value) => text(jsonText(value), 'JSON of another type')),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom(
            '{',
            '}',
            '{"model":}',
            '{"model":"a",}',
            "{'model':'a'}",
            '{"model":NaN}',
            '{"a":1}{"b":2}',
            '\ufeff{"model":"a"}',
            'null null',
            '[',
            '"',
            'undefined',
            '{"model":"a"\u0000}',
            ' ',
          ),
          fc.nat().map((cut) => {
            const whole = JSON.stringify(valid);
            return whole.slice(0, cut % whole.length);
          }),
          fc.string({ maxLength: 40 }),
        )
        .map((value) => text(value, 'invalid JSON')),
    },
    { weight: 1, arbitrary: fc.constant({ note: 'no body' }) },
    { weight: 1, arbitrary: fc.constant({ body: new Uint8Array(0), note: 'empty body' }) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((bytes) => ({ body: Uint8Array.from([0x7b, 0xff, 0xfe, ...bytes]), note: 'invalid UTF-8' })),
    },
  );
}

const BOUNDARY = 'fuzzboundary7MA4YWxkTrZu0gW';

function multipartText(
  fields: Record<string, string | undefined>,
  file: string | undefined,
  boundary: string,
) {
  let text = '';
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    text += `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  if (file !== undefined) {
    text += `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: text/plain\r\n\r\n${file}\r\n`;
  }
  return `${text}--${boundary}--\r\n`;
}

/** Multipart bodies: a form with odd field values, broken framing, or no boundary. */
function multipartBody(
  form: Record<string, string>,
): fc.Arbitrary<{ body?: Uint8Array; note: string; contentType: string }> {
  const names = Object.keys(form);
  const fieldValue = fc.oneof(
    fc.constantFrom('', 'NaN', '-1', '1e999', 'null', '{"a":1}', '[]', '\u0000', 'x'.repeat(10_000)),
    fc.string({ maxLength: 12 }),
  );
  const good = `multipart/form-data; boundary=${BOUNDARY}`;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.dictionary(fc.constantFrom(...names, 'other'), fc.option(fieldValue, { nil: undefined })),
          fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
        )
        .map(([changes, file]) => ({
          body: encoder.encode(multipartText({ ...form, ...changes }, file, BOUNDARY)),
          note: 'changed form',
          contentType: good,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          { text: multipartText(form, 'hello', BOUNDARY).slice(0, 40), type: good },
          { text: multipartText(form, 'hello', BOUNDARY), type: 'multipart/form-data' },
          { text: multipartText(form, 'hello', 'other'), type: good },
          { text: '', type: good },
          { text: `--${BOUNDARY}\r\n\r\n--${BOUNDARY}--`, type: good },
          { text: multipartText(form, 'hello', BOUNDARY), type: 'multipart/form-data; boundary=' },
        )
        .map(({ text, type }) => ({
          body: encoder.encode(text),
          note: 'broken multipart',
          contentType: type,
        })),
    },
  );
}

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'application/octet-stream',
      'application/vnd.api+json',
      '',
      ';',
      'application/json, text/plain',
    ),
  },
);

/** Parameter values: plausible ids, odd ones, encoded ones. */
const parameter = fc.oneof(
  fc.constantFrom(
    'notes',
    'lab/qwen2.5-0.5b-instruct-4bit',
    'resp_0',
    'job_0',
    'nope',
    '%00',
    '%ZZ',
    '%',
    '%2F',
    '%2e%2e',
    '..',
    '.',
    '%F0%9F%92%A5',
    '%C3%28',
    '%ED%A0%80',
    'a%20b',
    'x'.repeat(3000),
  ),
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,24}$/),
);

const queryValue = fc.oneof(
  fc.constantFrom('', '-1', '0', 'NaN', '1e999', '101', '1.5', '%ZZ', 'a%26b', '%00', 'x'.repeat(2000)),
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/),
);

/** The path of a route with its parameters filled, and odd variations of it. */
function pathOf(spec: RouteSpec): fc.Arbitrary<string> {
  const segments = spec.path.split('/').filter(Boolean);
  const value = (segment: string): fc.Arbitrary<string> => {
    if (!/^[:*]/.test(segment)) return fc.constant(segment);
    const known = spec.params?.[segment.slice(1)];
    return known?.length
      ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: parameter })
      : parameter;
  };
  const filled = fc.tuple(...segments.map(value)).map((values) => `/${values.join('/')}`);
  const query = fc.array(
    fc.tuple(fc.constantFrom(...(spec.query ?? []), 'limit', 'after', 'x', '%ZZ', ''), queryValue),
    { maxLength: 3 },
  );
  const variant = fc.oneof(
    { weight: 12, arbitrary: fc.constant('as is') },
    { weight: 1, arbitrary: fc.constantFrom('trailing slash', 'double slash', 'upper case', 'encoded') },
  );
  return fc
    .tuple(
      filled,
      variant,
      fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: query }),
    )
    .map(([path, chosen, pairs]) => {
      let result = path;
      if (chosen === 'trailing slash') result = `${path}/`;
      else if (chosen === 'double slash') result = `/${path}`;
      else if (chosen === 'upper case') result = path.toUpperCase();
      else if (chosen === 'encoded')
        result = path.replace(/\/(\w)/, (_match, char: string) => `/%${char.charCodeAt(0).toString(16)}`);
      if (pairs.length > 0) result += `?${pairs.map(([name, item]) => `${name}=${item}`).join('&')}`;
      return result;
    });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A malformed request for one route of `specs`, with headers from `headers`. */
export function malformedRequest(
  specs: RouteSpec[],
  headers: fc.Arbitrary<Record<string, string>> = fc.constant({}),
): fc.Arbitrary<RawRequest & { spec: RouteSpec }> {
  return fc.constantFrom(...specs).chain((spec) => {
    const method = fc.oneof(
      { weight: 5, arbitrary: fc.constant(spec.method) },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
    );
    const body = spec.form
      ? multipartBody(spec.form).map(({ contentType: type, ...rest }) => ({
          ...rest,
          contentType: type as string | undefined,
        }))
      : fc.tuple(jsonBody(spec.body), contentType).map(([value, type]) => ({ ...value, contentType: type }));
    return fc.tuple(method, pathOf(spec), body, headers).map(([chosen, path, drawn, extra]) => {
      const all: Record<string, string> = { ...extra };
      if (drawn.contentType !== undefined) all['content-type'] = drawn.contentType;
      if (spec.shape === 'mcp') all.accept ??= 'application/json, text/event-stream';
      return {
        spec,
        method: chosen,
        path,
        headers: all,
        // GET and HEAD with a body are legal on the wire, if odd; keep them mostly without.
        body: chosen === 'GET' || chosen === 'HEAD' ? undefined : drawn.body,
        note: drawn.note,
      };
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** Sends a request as it is (node:http: no path normalising) and reads the whole answer. */
export function send(base: string, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: {
          ...request.headers,
          ...(request.body ? { 'content-length': String(request.body.byteLength) } : {}),
        },
      },
      (incoming) => {
        const parts: Buffer[] = [];
        incoming.on('data', (part: Buffer) => parts.push(part));
        incoming.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            text: Buffer.concat(parts).toString('utf8'),
          });
        });
        incoming.on('error', fail);
      },
    );
    const timer = setTimeout(() => {
      outgoing.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    outgoing.on('error', fail);
    outgoing.end(request.body);
  });
}

/** Closes the kept-alive sockets of {@link send}. */
export function closeConnections(): void {
  agent.destroy();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why an error body is not of `shape`, or `undefined` when it is. */
function shapeProblem(body: unknown, shape: ErrorShape): string | undefined {
  if (shape === 'anthropic') {
    if (!isRecord(body) || body.type !== 'error' || !isRecord(body.error))
      return 'not { type: "error", error }';
    const { type, message } = body.error;
    if (typeof type !== 'string' || typeof message !== 'string' || message === '')
      return 'error.type or error.message missing';
    return undefined;
  }
  if (shape === 'mcp' && isRecord(body) && body.jsonrpc === '2.0' && isRecord(body.error)) {
    return typeof body.error.code === 'number' && typeof body.error.message === 'string'
      ? undefined
      : 'JSON-RPC error without code or message';
  }
  if (!isRecord(body) || !isRecord(body.error)) return 'not { error: { … } }';
  const { message, type } = body.error;
  if (typeof message !== 'string' || message === '') return 'error.message missing';
  if (typeof type !== 'string' || type === '') return 'error.type missing';
  if (!('param' in body.error) || !('code' in body.error)) return 'error.param or error.code missing';
  return undefined;
}

/** The error shape of the route a path names (its query string aside). */
export function shapeOfPath(path: string, specs: RouteSpec[]): ErrorShape {
  const bare = path.split('?')[0]!;
  for (const spec of specs) if (spec.shape && spec.path === bare) return spec.shape;
  return 'openai';
}

/**
 * What is wrong with an answer, or `undefined` when nothing is: a 5xx, an error body not in the
 * route's shape, a JSON answer that does not parse, an event stream that ends with a server error.
 */
export function answerProblem(
  request: RawRequest,
  response: RawResponse,
  shape: ErrorShape,
): string | undefined {
  const { status } = response;
  if (status >= 500) return `status ${status}: ${response.text.slice(0, 400)}`;
  const type = String(response.headers['content-type'] ?? '');
  if (request.method === 'HEAD') return undefined;
  if (status >= 400) {
    if (!type.includes('json'))
      return `status ${status} with content-type '${type}': ${response.text.slice(0, 200)}`;
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      return `status ${status} with a body that is not JSON: ${response.text.slice(0, 200)}`;
    }
    const problem = shapeProblem(body, shape);
    return problem ? `status ${status}, ${problem}: ${response.text.slice(0, 300)}` : undefined;
  }
  if (type.includes('application/json') && response.text !== '') {
    try {
      JSON.parse(response.text);
    } catch {
      return `status ${status} with broken JSON: ${response.text.slice(0, 200)}`;
    }
  }
  if (type.includes('text/event-stream') && /"(server_error|internal_error|api_error)"/.test(response.text)) {
    return `status ${status}, the stream carries a server error: ${response.text.slice(-400)}`;
  }
  return undefined;
}

/** A short account of a request, for failure messages. */
export function describeRequest(request: RawRequest): string {
  const body = request.body ? Buffer.from(request.body).toString('utf8') : '';
  return `${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers)} (${request.note}) ${
    body.length > 400 ? `${body.slice(0, 400)}… (${body.length} chars)` : body
  }`;
}

/** A request as bytes on the wire, for what an HTTP client library would refuse to send. */
export interface WireRequest {
  text: string;
  /** The path of the request line, for the error shape. */
  path: string;
  /**
   * Whether the body's framing is broken (a bad chunk size, `Transfer-Encoding: gzip`). Known gap:
   * when the request is refused before its body is read (a bad Host or URL), the parser's error on
   * the body that follows closes the connection before the refusal is out.
   */
  brokenBody: boolean;
}

const WIRE_TARGETS = [
  '/v1/chat/completions',
  '/v1/messages',
  '/v1/models',
  '/health',
  'v1/models',
  '*',
  'http://127.0.0.1/v1/models',
  'http://%/v1/models',
  '/v1/models/\xff\xfe',
  '/v1/%',
  '//v1/models',
  '/v1/models?a=%ZZ',
  '/v1/models#x',
];

/**
 * Requests as raw bytes: odd request lines (methods Node does not know, targets that are not paths,
 * other versions), odd `Host`, `Content-Length`, `Transfer-Encoding` and `Expect` headers, huge
 * headers, broken chunked bodies. Each is complete: the server has all it will get.
 */
export const wireRequest: fc.Arbitrary<WireRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'POST', 'HEAD', 'OPTIONS', 'get', 'FOO', 'PRI', 'CONNECT'),
    target: fc.constantFrom(...WIRE_TARGETS),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'HTTP/1.1x', 'http/1.1'),
    host: fc.constantFrom<string | undefined>(
      '127.0.0.1',
      '127.0.0.1',
      undefined,
      '',
      '[::1',
      'a:b:c',
      'x/y',
      'evil.example',
      '127.0.0.1:99999',
    ),
    framing: fc.constantFrom(
      'length',
      'length',
      'negative length',
      'two lengths',
      'length not a number',
      'chunked',
      'bad chunk',
      'chunked and length',
      'unknown coding',
      'none',
    ),
    expect: fc.constantFrom<string | undefined>(undefined, undefined, '100-continue', 'nonsense'),
    extra: fc.constantFrom<string | undefined>(
      undefined,
      undefined,
      `X-Big: ${'x'.repeat(20_000)}`,
      'Content-Type: application/json',
      'Content-Type: application/json\r\nContent-Type: text/plain',
      'Bad Header: x',
      'X-Obs: a\r\n b',
      'Content-Encoding: gzip',
    ),
    body: fc.constantFrom('{}', '{"model":"lab/qwen2.5-0.5b-instruct-4bit","messages":[]}', 'hello', ''),
  })
  .map(({ method, target, version, host, framing, expect, extra, body }) => {
    const lines = [`${method} ${target} ${version}`];
    if (host !== undefined) lines.push(`Host: ${host}`);
    if (expect !== undefined) lines.push(`Expect: ${expect}`);
    if (extra !== undefined) lines.push(extra);
    let payload = '';
    const size = Buffer.byteLength(body);
    if (framing === 'length') lines.push(`Content-Length: ${size}`);
    else if (framing === 'negative length') lines.push('Content-Length: -1');
    else if (framing === 'two lengths') lines.push(`Content-Length: ${size}`, `Content-Length: ${size + 1}`);
    else if (framing === 'length not a number') lines.push('Content-Length: x');
    else if (framing === 'chunked' || framing === 'chunked and length') {
      lines.push('Transfer-Encoding: chunked');
      if (framing === 'chunked and length') lines.push(`Content-Length: ${size}`);
      payload = `${size > 0 ? `${size.toString(16)}\r\n${body}\r\n` : ''}0\r\n\r\n`;
    } else if (framing === 'bad chunk') {
      lines.push('Transfer-Encoding: chunked');
      payload = `zz\r\n${body}\r\n0\r\n\r\n`;
    } else if (framing === 'unknown coding') lines.push('Transfer-Encoding: gzip');
    if (framing === 'length' || framing === 'two lengths' || framing === 'negative length') payload = body;
    const path = target.startsWith('/') ? target.split(/[?#]/)[0]! : '/';
    const brokenBody = framing === 'bad chunk' || framing === 'unknown coding';
    return { text: `${lines.join('\r\n')}\r\n\r\n${payload}`, path, brokenBody };
  });

/**
 * Sends `request` on a new connection, half-closes it, and reads the first answer (status, headers,
 * body by its `Content-Length` or up to the close). `undefined` when the server closed without one.
 */
export function sendWire(
  base: string,
  request: WireRequest,
  timeoutMs = 15_000,
): Promise<RawResponse | undefined> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(url.port), url.hostname);
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`no complete answer within ${timeoutMs} ms; got: ${data.toString('latin1').slice(0, 300)}`),
      );
    }, timeoutMs);
    const finish = (answer: RawResponse | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const tryParse = (closed: boolean) => {
      let text = data.toString('latin1');
      // Interim answers (100 Continue) come before the real one.
      while (/^HTTP\/1\.[01] 1\d\d [^\r]*\r\n\r\n/.test(text))
        text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return closed ? finish(undefined) : undefined;
      const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(statusLine!.split(' ')[1]);
      const rest = Buffer.from(text.slice(end + 4), 'latin1');
      // An answer to HEAD ends with its head: its content-length is that of the GET it stands for.
      if (request.text.startsWith('HEAD ')) return finish({ status, headers, text: '' });
      const length = headers['content-length'];
      if (length !== undefined && rest.byteLength >= Number(length)) {
        return finish({ status, headers, text: rest.subarray(0, Number(length)).toString('utf8') });
      }
      if (headers['transfer-encoding'] === 'chunked' && /\r\n0\r\n\r\n$/.test(rest.toString('latin1'))) {
        return finish({ status, headers, text: dechunk(rest.toString('latin1')) });
      }
      if (
        closed ||
        (length === undefined && headers['transfer-encoding'] === undefined && !headers['content-type'])
      ) {
        return finish({ status, headers, text: rest.toString('utf8') });
      }
      return undefined;
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('close', () => tryParse(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A server that refuses and closes may reset a connection still sending.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') tryParse(true);
      else {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.write(Buffer.from(request.text, 'latin1'));
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  while (rest.length > 0) {
    const line = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) break;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
  return Buffer.from(out, 'latin1').toString('utf8');
}
