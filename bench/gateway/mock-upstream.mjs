/**
 * Mock OpenAI-compatible upstream, answering like mlx-openai-server but instantly (target A, and
 * the upstream behind targets B and C).
 *
 * Routes:
 * - `POST /v1/chat/completions`: reads the whole body, then answers a ~600-byte `chat.completion`,
 *   or, when the body has `"stream": true`, 64 `chat.completion.chunk` SSE events and
 *   `data: [DONE]`, each written with its own `write()` and no artificial delay.
 * - `GET /v1/models`: `{ object: "list", data: [{ id: "bench-model", ... }] }`.
 * - `GET /health`: `{ status: "ok" }`.
 * - `GET /v1/queue/stats`: mlx-openai-server's nested `{ status, queue_stats: { queue_stats } }`,
 *   with the requests in flight as `running` / `active_requests`.
 *
 * Run by hand: `node bench/gateway/mock-upstream.mjs --port 8000` (default: a free port).
 * Under `fork`, it reports its port, CPU and chat requests answered over IPC (see `child-ipc.mjs`),
 * so the bench can tell that every response counted through a proxy really reached the upstream.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { argument, reportToParent } from './child-ipc.mjs';
import { completionBody, completionId, streamEvents } from './mock-completions.mjs';

const MODEL_ID = 'bench-model';
const startedSeconds = Math.floor(Date.now() / 1000);
const modelsBody = JSON.stringify({
  object: 'list',
  data: [{ id: MODEL_ID, object: 'model', created: startedSeconds, owned_by: 'local' }],
});
let requestsInFlight = 0;
let chatRequestsAnswered = 0;

function sendJson(response, status, body) {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    server: 'uvicorn',
  });
  response.end(body);
}

function answerChat(response, rawBody) {
  chatRequestsAnswered++;
  let payload;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    sendJson(response, 400, '{"error":{"message":"Invalid JSON body","type":"invalid_request_error"}}');
    return;
  }
  const created = Math.floor(Date.now() / 1000);
  const fields = {
    id: completionId(created),
    created,
    model: typeof payload?.model === 'string' ? payload.model : MODEL_ID,
    requestId: randomUUID(),
  };
  if (payload?.stream !== true) {
    sendJson(response, 200, completionBody(fields));
    return;
  }
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    server: 'uvicorn',
  });
  const events = streamEvents(fields);
  for (let index = 0; index < events.length - 1; index++) response.write(events[index]);
  response.end(events[events.length - 1]);
}

const server = createServer((request, response) => {
  const path = request.url?.split('?')[0];
  if (request.method === 'POST' && path === '/v1/chat/completions') {
    requestsInFlight++;
    response.on('close', () => requestsInFlight--);
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => answerChat(response, Buffer.concat(chunks).toString('utf8')));
    return;
  }
  // Drain any body so the keep-alive connection stays usable.
  request.resume();
  if (request.method !== 'GET') {
    sendJson(response, 405, '{"detail":"Method Not Allowed"}');
  } else if (path === '/v1/models') {
    sendJson(response, 200, modelsBody);
  } else if (path === '/health') {
    sendJson(response, 200, '{"status":"ok"}');
  } else if (path === '/v1/queue/stats') {
    const stats = {
      running: requestsInFlight,
      queue_size: 0,
      max_queue_size: 100,
      active_requests: requestsInFlight,
    };
    sendJson(response, 200, JSON.stringify({ status: 'ok', queue_stats: { queue_stats: stats } }));
  } else {
    sendJson(response, 404, '{"detail":"Not Found"}');
  }
});

// Longer than any pause between measurements, so pooled proxy sockets are never closed under them.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(argument('port', 'MOCK_PORT', '0')), '127.0.0.1', () =>
  reportToParent(server, 'mock upstream', () => ({ chatRequests: chatRequestsAnswered })),
);
