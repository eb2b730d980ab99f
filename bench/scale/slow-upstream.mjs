/**
 * Mock OpenAI-compatible upstream whose streams are slow, like a model generating: each
 * `POST /v1/chat/completions` with `"stream": true` answers `--chunks` (20) `chat.completion.chunk`
 * events spread over `--stream-ms` (4000) ms, then `data: [DONE]`. `GET /v1/models` lists
 * `bench-model`; `/health` is ok; `/v1/queue/stats` is a 404, as on vLLM or OpenAI, so a gateway
 * in front of it runs with its defaults (nothing is discovered).
 *
 * Under `fork`, it reports its port and counters (streams answered, open now, most open at once)
 * over IPC (see `../gateway/child-ipc.mjs`).
 */
import { createServer } from 'node:http';
import { argument, reportToParent } from '../gateway/child-ipc.mjs';

const CHUNKS = Number(argument('chunks', 'SCALE_CHUNKS', '20'));
const STREAM_MS = Number(argument('stream-ms', 'SCALE_STREAM_MS', '4000'));
const MODEL_ID = 'bench-model';
const created = Math.floor(Date.now() / 1000);
const WORDS = 'A slow stream of words from a mock model, one chunk at a time, like a real decoder'.split(' ');

/** mlx-openai-server's chunk shape, serialised once per position (the id is per server, not per call). */
function chunkEvent(delta, finishReason, usage) {
  const chunk = {
    id: 'chatcmpl_scale',
    object: 'chat.completion.chunk',
    created,
    model: MODEL_ID,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
  if (usage) chunk.usage = usage;
  return Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`);
}
const EVENTS = [chunkEvent({ role: 'assistant' }, null)];
for (let index = 1; index < CHUNKS - 1; index++)
  EVENTS.push(chunkEvent({ content: ` ${WORDS[index % WORDS.length]}` }, null));
EVENTS.push(
  chunkEvent({}, 'stop', { prompt_tokens: 20, completion_tokens: CHUNKS - 2, total_tokens: 18 + CHUNKS }),
);
const DONE = Buffer.from('data: [DONE]\n\n');
const INTERVAL_MS = STREAM_MS / CHUNKS;

let answered = 0;
let open = 0;
let peakOpen = 0;

function sendJson(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function stream(response) {
  answered++;
  open++;
  peakOpen = Math.max(peakOpen, open);
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  let next = 0;
  const timer = setInterval(() => {
    if (next < EVENTS.length) response.write(EVENTS[next++]);
    if (next === EVENTS.length) {
      clearInterval(timer);
      response.end(DONE);
    }
  }, INTERVAL_MS);
  response.on('close', () => {
    clearInterval(timer);
    open--;
  });
}

const server = createServer((request, response) => {
  const path = request.url?.split('?')[0];
  if (request.method === 'POST' && path === '/v1/chat/completions') {
    const parts = [];
    request.on('data', (part) => parts.push(part));
    request.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        return sendJson(response, 400, {
          error: { message: 'Invalid JSON body', type: 'invalid_request_error' },
        });
      }
      if (body?.stream !== true) return sendJson(response, 400, { error: { message: 'stream only' } });
      stream(response);
    });
  } else if (path === '/v1/models') {
    sendJson(response, 200, {
      object: 'list',
      data: [{ id: MODEL_ID, object: 'model', created, owned_by: 'local' }],
    });
  } else if (path === '/health') {
    sendJson(response, 200, { status: 'ok' });
  } else {
    sendJson(response, 404, { detail: 'Not Found' });
  }
});
// uvicorn's keep-alive timeout, as in front of mlx-openai-server.
server.keepAliveTimeout = 5_000;
server.maxConnections = Number.POSITIVE_INFINITY;
// The bench measures one target after another against this upstream: it restarts the peak between them.
process.on('message', (message) => {
  if (message?.type === 'reset-peak') peakOpen = open;
});
server.listen(Number(argument('port', 'SCALE_UPSTREAM_PORT', '0')), '127.0.0.1', () =>
  reportToParent(server, 'slow upstream', () => ({ answered, open, peakOpen })),
);
