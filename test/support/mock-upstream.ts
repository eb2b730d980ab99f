/**
 * A real HTTP server shaped like mlx-openai-server-lab (the fixtures of `@fusionkit/openai` describe
 * the same shapes), for tests where the orchestrator runs in another process and msw cannot reach.
 * Behaviour per request through the `x-mock-behavior` header: `hang` (never answers), `slow`
 * (100 ms between chunks), `error-500`, `lab-queue-full` (HTTP 500 with a "429: …" message). Offered
 * tools, it calls `get_weather` until the last message is a tool result.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockUpstream {
  url: string;
  baseURL: string;
  server: Server;
  /** Bodies and headers of the requests received. */
  requests: { path: string; headers: IncomingMessage['headers']; body: unknown }[];
  /** Paths of requests whose client went away before the answer ended, with the time it happened. */
  aborts: { path: string; at: number }[];
  close(): Promise<void>;
}

const MODELS = [
  {
    id: 'qwen2.5-0.5b-instruct-4bit',
    object: 'model',
    created: 1_735_000_000,
    owned_by: 'local-mlx',
    description: 'Qwen2.5 0.5B Instruct, 4-bit',
    context_length: 32_768,
    family: 'qwen2',
    tags: ['chat', 'small'],
    tier: '3A',
  },
  {
    id: 'bge-small-en',
    object: 'model',
    created: 1_735_000_000,
    owned_by: 'local-mlx',
    family: 'bert',
    tags: ['embeddings'],
  },
];

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => resolve(Buffer.concat(parts)));
    request.on('error', reject);
  });
}

/** A multipart body as the mock records it: fields as strings, files as name, type and bytes. */
async function readForm(raw: Buffer, type: string): Promise<Record<string, unknown>> {
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form) {
    fields[name] =
      typeof value === 'string'
        ? value
        : { filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
  }
  return fields;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export async function startMockUpstream(
  options: { reply?: string; port?: number } = {},
): Promise<MockUpstream> {
  const reply = options.reply ?? 'Hello from the mock upstream, streamed word by word.';
  const requests: MockUpstream['requests'] = [];
  const aborts: MockUpstream['aborts'] = [];

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const raw = request.method === 'POST' ? await readBody(request) : Buffer.alloc(0);
    const type = String(request.headers['content-type'] ?? '');
    const body: unknown =
      raw.length === 0
        ? undefined
        : type.startsWith('multipart/form-data')
          ? await readForm(raw, type)
          : JSON.parse(raw.toString('utf8'));
    requests.push({ path, headers: request.headers, body });
    response.on('close', () => {
      if (!response.writableFinished) aborts.push({ path, at: Date.now() });
    });
    const behavior = String(request.headers['x-mock-behavior'] ?? '');

    if (path === '/health')
      return json(response, 200, { status: 'ok', model_id: MODELS[0]!.id, model_status: 'initialized' });
    if (path === '/v1/models') return json(response, 200, { object: 'list', data: MODELS });
    if (path === '/v1/queue/stats') {
      return json(response, 200, {
        status: 'ok',
        queue_stats: {
          queue_stats: {
            running: 0,
            queue_size: 0,
            max_queue_size: 100,
            active_requests: 0,
            max_concurrency: 1,
          },
        },
      });
    }
    if (behavior === 'hang') return; // never answers; the client must give up
    if (behavior === 'error-500')
      return json(response, 500, {
        error: { message: 'boom', type: 'server_error', param: null, code: '500' },
      });
    if (behavior === 'lab-queue-full') {
      return json(response, 500, { detail: '429: {"error": "Too many requests. Service is at capacity."}' });
    }

    if (path === '/v1/embeddings') {
      const input = (body as { input: string | string[] }).input;
      const texts = typeof input === 'string' ? [input] : input;
      return json(response, 200, {
        object: 'list',
        model: MODELS[1]!.id,
        data: texts.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: [text.length, 0.5, -0.25, 1],
        })),
        usage: { prompt_tokens: texts.length * 3, total_tokens: texts.length * 3 },
      });
    }
    // mlx-openai-server's other routes: answers that say what arrived.
    if (path === '/v1/audio/transcriptions') {
      const form = body as { model: string; file: { filename: string; bytes: Buffer } };
      return json(response, 200, {
        text: `${form.model} heard ${form.file.filename}: ${form.file.bytes.toString('utf8')}`,
      });
    }
    if (path === '/v1/images/generations' || path === '/v1/images/edits') {
      const fields = body as { model: string; prompt: string; image?: { bytes: Buffer } };
      const picture = `${fields.model}: ${fields.prompt}${fields.image ? ` over ${fields.image.bytes.length} bytes` : ''}`;
      return json(response, 200, {
        created: Math.floor(Date.now() / 1000),
        data: [{ b64_json: Buffer.from(picture).toString('base64') }],
      });
    }
    if (path !== '/v1/chat/completions') return json(response, 404, { detail: 'Not Found' });

    const chat = body as {
      model: string;
      stream?: boolean;
      tools?: unknown[];
      messages?: { role: string }[];
    };
    const created = Math.floor(Date.now() / 1000);
    const id = `chatcmpl_${requests.length}`;
    const usage = {
      prompt_tokens: 12,
      completion_tokens: words(reply).length,
      total_tokens: 12 + words(reply).length,
    };
    // Offered tools, it calls one; given a tool's result, it answers (as an agent's model does).
    const toolCall =
      chat.tools?.length && chat.messages?.at(-1)?.role !== 'tool'
        ? {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            index: 0,
          }
        : undefined;
    if (!chat.stream) {
      return json(response, 200, {
        id,
        object: 'chat.completion',
        created,
        model: chat.model,
        choices: [
          {
            index: 0,
            message: toolCall
              ? { role: 'assistant', content: null, tool_calls: [toolCall] }
              : { role: 'assistant', content: reply },
            finish_reason: toolCall ? 'tool_calls' : 'stop',
          },
        ],
        usage,
      });
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (delta: unknown, finish: string | null = null, extra: object = {}) =>
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
      );
    send({ role: 'assistant' });
    if (toolCall) {
      send({ tool_calls: [toolCall] });
      send({}, 'tool_calls', { usage });
    } else {
      for (const word of words(reply)) {
        if (response.destroyed) return;
        send({ content: word });
        if (behavior === 'slow') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      send({}, 'stop', { usage });
    }
    response.end('data: [DONE]\n\n');
  };
  const server = createServer((request, response) => {
    // A body the mock cannot read (a form without its file, JSON it cannot parse) gets a 422, as
    // mlx-openai-server answers a request it cannot validate, not a mock that never answers.
    answer(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else json(response, 422, { detail: `mock upstream: ${(error as Error)?.message ?? error}` });
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    server,
    requests,
    aborts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
