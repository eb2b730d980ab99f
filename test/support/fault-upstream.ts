/**
 * A real HTTP server shaped like mlx-openai-server (`/health`, `/v1/queue/stats`, `/v1/models`,
 * `/v1/chat/completions` as JSON and as SSE) whose failures are chosen per request, in the manner of
 * Envoy AI Gateway's test upstream. Loopback only (127.0.0.1, port 0); bounded (request bodies,
 * records, connections).
 *
 * A request's behaviour comes from its `x-fault` header, else from its model's default given at
 * start (`models: { flaky: { fault: 'status-500', times: 2 } }`: the first two requests of `flaky`
 * fail, the later ones succeed). Per-model defaults need no header plumbing: a pipeline whose targets
 * are different models of one upstream gets a different behaviour per target.
 *
 * Fault syntax: directives separated by `,`, each `name[=value]` with `; key=value` parameters.
 * - `status-NNN` (`; retry-after=S; shape=S`): HTTP NNN with an error body, before the first byte.
 *   `shape` is `openai` (`{error}`, the default), `detail` (FastAPI's `{detail: {error}}`),
 *   `validation` (FastAPI's 422 `{detail: [{loc, msg}]}`, naming `messages[0].content`) or `lab`
 *   (mlx-openai-server-lab: HTTP 500 whose message starts `"NNN: {...}"`).
 * - `reset-before-headers`: the socket is destroyed before anything is sent.
 * - `reset-after-first-chunk`: the socket is destroyed after the first content chunk.
 * - `silence`: headers, then nothing; `silence-before-headers`: nothing at all;
 *   `silence-after-first-chunk`: the first content chunk, then nothing.
 * - `first-token-delay-ms=N`: N ms before the first content (before the whole answer, non-streamed).
 * - `chunk-delay-ms=N`: N ms between content chunks.
 * - `slow-ms=N`: N ms before the response starts.
 * - `malformed-sse` (`; after-chunks=N`): an event that is not JSON after N content chunks (default 0).
 * - `huge-line` (`; bytes=N; after-chunks=N`): one `data:` line of N bytes (default 5 MiB), a
 *   well-formed chunk whose content is N bytes of `x`, sent in 256 KiB pieces 5 ms apart.
 *
 * - `no-stream-usage`: a stream without usage on its last chunk (vLLM, Ollama and OpenAI without
 *   `stream_options.include_usage`).
 *
 * Every request is recorded (time, path, model, headers, body, fault, the usage answered), and so is
 * every abort: the client closing the connection before the answer ended.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A model's behaviour when the request carries no `x-fault` header. */
export interface FaultModel {
  /** Fault directives, as in the `x-fault` header. @example 'status-429; retry-after=1' */
  fault?: string;
  /** Apply `fault` to the first `times` chat requests of the model, then answer normally. @default always */
  times?: number;
  /** The answer text. @default the upstream's `reply` */
  reply?: string;
}

export interface FaultUpstreamOptions {
  /** Models served (listed by `/v1/models`), with their default behaviour. `steady` is always there. */
  models?: Record<string, FaultModel | string>;
  /** The answer text of every model without its own. @default 'The answer is 42.' */
  reply?: string;
  /** Requests and aborts kept at most (oldest dropped). @default 10000 */
  maxRecords?: number;
  /** Largest request body accepted; larger gets 413. @default 4 MiB */
  maxBodyBytes?: number;
}

/** One request the upstream received. */
export interface FaultRequest {
  /** `Date.now()` when the request arrived. */
  at: number;
  path: string;
  model: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The fault applied, `''` for a normal answer. */
  fault: string;
  stream: boolean;
  /** The usage the upstream answered with, when it got that far. */
  usage?: Usage;
}

/** A request whose client went away before its answer ended. */
export interface FaultAbort {
  at: number;
  path: string;
  model: string | undefined;
  /** Milliseconds from the request to the abort. */
  afterMs: number;
}

export interface FaultUpstream {
  url: string;
  /** `${url}/v1`, for `createOpenAICompatible({ baseURL })`. */
  baseURL: string;
  requests: FaultRequest[];
  aborts: FaultAbort[];
  /** Chat completion requests, of one model or of all. */
  chatRequests(model?: string): FaultRequest[];
  /** Aborts of chat completion requests, of one model or of all. */
  chatAborts(model?: string): FaultAbort[];
  /** Forgets the records and restarts every model's `times` count. */
  reset(): void;
  close(): Promise<void>;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

interface Fault {
  name: string;
  value: number | undefined;
  params: Record<string, string>;
}

const DEFAULT_REPLY = 'The answer is 42.';
const HUGE_LINE_BYTES = 5 * 1024 * 1024;
const SIMPLE_FAULTS = new Set([
  'reset-before-headers',
  'reset-after-first-chunk',
  'silence',
  'silence-before-headers',
  'silence-after-first-chunk',
  'malformed-sse',
  'huge-line',
  'no-stream-usage',
]);
const TIMED_FAULTS = new Set(['first-token-delay-ms', 'chunk-delay-ms', 'slow-ms']);

/** Parses `x-fault` directives; throws on an unknown one so a typo fails loudly. */
export function parseFaults(text: string): Fault[] {
  const faults: Fault[] = [];
  for (const directive of text.split(',')) {
    const [head = '', ...rest] = directive.split(';').map((part) => part.trim());
    if (!head) continue;
    const [name = '', raw] = head.split('=').map((part) => part.trim());
    const params: Record<string, string> = {};
    for (const param of rest) {
      const [key = '', value = ''] = param.split('=').map((part) => part.trim());
      if (key) params[key.toLowerCase()] = value;
    }
    const value = raw === undefined ? undefined : Number(raw);
    const known =
      /^status-\d{3}$/.test(name) ||
      SIMPLE_FAULTS.has(name) ||
      (TIMED_FAULTS.has(name) && value !== undefined && Number.isFinite(value) && value >= 0);
    if (!known) throw new Error(`Unknown fault '${directive.trim()}'.`);
    faults.push({ name, value, params });
  }
  return faults;
}

function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function promptTokens(body: { messages?: { content?: unknown }[] }): number {
  let count = 0;
  for (const message of body.messages ?? []) {
    const content = typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
    count += words(content ?? '').length + 3;
  }
  return count;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Resolves true after `ms`, or false as soon as the request is gone (its timer cleared). */
function wait(ms: number, gone: AbortSignal): Promise<boolean> {
  if (gone.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      gone.removeEventListener('abort', onGone);
      resolve(true);
    }, ms);
    const onGone = () => {
      clearTimeout(timer);
      resolve(false);
    };
    gone.addEventListener('abort', onGone, { once: true });
  });
}

/**
 * Writes a long text in 256 KiB pieces, 5 ms apart, the way a slow upstream sends a huge event: a
 * client that gives up part-way is then seen as an abort. Resolves false if the client went away.
 */
async function writePaced(response: ServerResponse, text: string, gone: AbortSignal): Promise<boolean> {
  const piece = 256 * 1024;
  for (let start = 0; start < text.length; start += piece) {
    if (start > 0 && !(await wait(5, gone))) return false;
    if (response.destroyed) return false;
    response.write(text.slice(start, start + piece));
  }
  return true;
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on('data', (part: Buffer) => {
      size += part.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      parts.push(part);
    });
    request.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    request.on('error', reject);
  });
}

/** Starts the upstream on 127.0.0.1, port 0. */
export async function startFaultUpstream(options: FaultUpstreamOptions = {}): Promise<FaultUpstream> {
  const reply = options.reply ?? DEFAULT_REPLY;
  const maxRecords = options.maxRecords ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const models = new Map<string, FaultModel>([['steady', {}]]);
  for (const [id, model] of Object.entries(options.models ?? {})) {
    const behaviour = typeof model === 'string' ? { fault: model } : model;
    if (behaviour.fault) parseFaults(behaviour.fault);
    models.set(id, behaviour);
  }
  const served = new Map<string, number>();
  const requests: FaultRequest[] = [];
  const aborts: FaultAbort[] = [];
  const keep = <TRecord>(list: TRecord[], record: TRecord) => {
    list.push(record);
    if (list.length > maxRecords) list.shift();
  };

  /** The fault of a chat request: its header, else its model's default while `times` lasts. */
  const faultFor = (headers: IncomingHttpHeaders, model: string | undefined): string => {
    const header = headers['x-fault'];
    if (typeof header === 'string' && header.trim()) return header.trim();
    const behaviour = model === undefined ? undefined : models.get(model);
    if (!behaviour?.fault) return '';
    const count = served.get(model!) ?? 0;
    return behaviour.times === undefined || count < behaviour.times ? behaviour.fault : '';
  };

  const server = createServer(async (request, response) => {
    const startedAt = Date.now();
    const path = (request.url ?? '/').split('?')[0]!;
    // Aborted when the connection ends for any reason; pending delays then stop.
    const gone = new AbortController();
    let destroyedHere = false;
    let model: string | undefined;
    response.on('close', () => {
      gone.abort();
      if (!response.writableFinished && !destroyedHere) {
        keep(aborts, { at: Date.now(), path, model, afterMs: Date.now() - startedAt });
      }
    });
    const destroy = () => {
      destroyedHere = true;
      request.socket.destroy();
    };
    /** Writes, and once the bytes are out (plus a moment for the client to read them), resets. */
    const writeThenReset = (data: string) => {
      destroyedHere = true;
      response.write(data, () => setTimeout(destroy, 20));
    };

    let raw = '';
    if (request.method === 'POST') {
      try {
        raw = await readBody(request, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) return json(response, 413, { detail: 'Request body too large' });
        return;
      }
    }
    let body: Record<string, unknown> | undefined;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      return json(response, 400, { detail: 'Body is not JSON' });
    }
    model = typeof body?.model === 'string' ? body.model : undefined;

    if (path === '/health') return json(response, 200, { status: 'ok', model_status: 'initialized' });
    if (path === '/v1/queue/stats') {
      return json(response, 200, {
        status: 'ok',
        queue_stats: {
          queue_stats: {
            running: 0,
            queue_size: 0,
            max_queue_size: 100,
            active_requests: 0,
            max_concurrency: 4,
          },
        },
      });
    }
    if (path === '/v1/models') {
      return json(response, 200, {
        object: 'list',
        data: [...models.keys()].map((id) => ({
          id,
          object: 'model',
          created: 1_735_000_000,
          owned_by: 'fault-upstream',
          context_length: 32_768,
        })),
      });
    }
    if (path !== '/v1/chat/completions' || body === undefined) {
      return json(response, 404, { detail: 'Not Found' });
    }

    const stream = body.stream === true;
    let faultText: string;
    let faults: Fault[];
    try {
      faultText = faultFor(request.headers, model);
      faults = parseFaults(faultText);
    } catch (error) {
      return json(response, 400, {
        error: { message: (error as Error).message, type: 'invalid_request_error' },
      });
    }
    if (model !== undefined) served.set(model, (served.get(model) ?? 0) + 1);
    const record: FaultRequest = {
      at: startedAt,
      path,
      model,
      headers: request.headers,
      body,
      fault: faultText,
      stream,
    };
    keep(requests, record);

    const find = (name: string) => faults.find((fault) => fault.name === name);
    const status = faults.find((fault) => fault.name.startsWith('status-'));
    const text = (model && models.get(model)?.reply) ?? reply;
    const pieces = words(text);
    const prompt = promptTokens(body as { messages?: { content?: unknown }[] });
    const huge = find('huge-line');
    const hugeBytes = huge ? Number(huge.params.bytes ?? HUGE_LINE_BYTES) : 0;
    const usage: Usage = {
      prompt_tokens: prompt,
      completion_tokens: pieces.length,
      total_tokens: prompt + pieces.length,
    };

    if (find('silence-before-headers')) return;
    if (find('reset-before-headers')) return destroy();
    const slow = find('slow-ms');
    if (slow && !(await wait(slow.value!, gone.signal))) return;
    if (status) {
      const code = Number(status.name.slice('status-'.length));
      const headers: Record<string, string> = {};
      if (status.params['retry-after'] !== undefined) headers['retry-after'] = status.params['retry-after'];
      const error = {
        message: status.params.message ?? `Injected fault: HTTP ${code}.`,
        type: code === 429 ? 'rate_limit_error' : 'server_error',
        param: null,
        code: String(code),
      };
      const shape = status.params.shape ?? 'openai';
      if (shape === 'detail') return json(response, code, { detail: { error } }, headers);
      if (shape === 'validation') {
        const problem = { type: 'string_type', loc: ['body', 'messages', 0, 'content'], msg: error.message };
        return json(response, code, { detail: [problem] }, headers);
      }
      if (shape === 'lab') {
        const inner = `{'error': {'message': '${error.message}', 'type': '${error.type}', 'param': None, 'code': '${code}'}}`;
        const wrapped = { message: `${code}: ${inner}`, type: 'internal_error', param: null, code: '500' };
        return json(response, 500, { error: wrapped }, headers);
      }
      return json(response, code, { error }, headers);
    }

    const id = `chatcmpl_fault_${requests.length}`;
    const created = Math.floor(startedAt / 1000);
    if (!stream) {
      if (find('silence')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.flushHeaders();
        return;
      }
      const firstToken = find('first-token-delay-ms');
      if (firstToken && !(await wait(firstToken.value!, gone.signal))) return;
      const content = huge ? 'x'.repeat(hugeBytes) : text;
      const answer = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage,
      });
      if (find('malformed-sse')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "broken", "choices": [');
        return;
      }
      if (find('reset-after-first-chunk') || find('silence-after-first-chunk')) {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(answer.length),
        });
        const half = answer.slice(0, Math.floor(answer.length / 2));
        if (find('reset-after-first-chunk')) writeThenReset(half);
        else response.write(half);
        return;
      }
      record.usage = usage;
      response.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      return;
    }

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.flushHeaders();
    if (find('silence')) return;
    const event = (delta: unknown, finish: string | null = null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    response.write(event({ role: 'assistant', content: '' }));

    const malformed = find('malformed-sse');
    const firstToken = find('first-token-delay-ms');
    const chunkDelay = find('chunk-delay-ms');
    const insertAt = (fault: Fault | undefined) => (fault ? Number(fault.params['after-chunks'] ?? 0) : -1);
    for (let index = 0; index <= pieces.length; index++) {
      if (index === insertAt(malformed)) response.write('data: {"id": "broken", "choices": [{"delta": \n\n');
      if (
        index === insertAt(huge) &&
        !(await writePaced(response, event({ content: 'x'.repeat(hugeBytes) }), gone.signal))
      )
        return;
      if (index === pieces.length) break;
      const delayMs = index === 0 ? firstToken?.value : chunkDelay?.value;
      if (delayMs && !(await wait(delayMs, gone.signal))) return;
      if (response.destroyed) return;
      if (index === 0 && find('reset-after-first-chunk'))
        return writeThenReset(event({ content: pieces[0] }));
      response.write(event({ content: pieces[index] }));
      if (index === 0 && find('silence-after-first-chunk')) return;
    }
    const withUsage = !find('no-stream-usage');
    if (withUsage) record.usage = usage;
    response.write(event({}, 'stop', withUsage ? { usage } : {}));
    response.end('data: [DONE]\n\n');
  });
  server.maxConnections = 512;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const isChat = (path: string) => path === '/v1/chat/completions';
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    aborts,
    chatRequests: (model) =>
      requests.filter((entry) => isChat(entry.path) && (model === undefined || entry.model === model)),
    chatAborts: (model) =>
      aborts.filter((entry) => isChat(entry.path) && (model === undefined || entry.model === model)),
    reset: () => {
      requests.length = 0;
      aborts.length = 0;
      served.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
