/**
 * One host of a fleet, run as its own process so that a test can kill it (SIGKILL) and start it again
 * on the same port: an OpenAI-compatible stub (`/health`, `/v1/models`, `/v1/chat/completions`,
 * plain or streamed) whose answers name it. `GET /calls` counts the chats it answered.
 *
 * Usage: node fleet-host.mjs <name> [port]; prints `listening <port>` once it listens.
 */
import { createServer } from 'node:http';

const [name = 'host', port = '0'] = process.argv.slice(2);
const MODEL = 'fleet-model';
let calls = 0;

const server = createServer((request, response) => {
  const path = (request.url ?? '/').split('?')[0];
  const json = (status, body) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (path === '/health') return json(200, { status: 'ok' });
  if (path === '/calls') return json(200, { calls });
  if (path === '/v1/models')
    return json(200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 1, owned_by: name }] });
  if (path !== '/v1/chat/completions' || request.method !== 'POST') return json(404, { detail: 'Not Found' });
  let body = '';
  request.on('data', (part) => {
    body += part;
  });
  request.on('end', () => {
    calls++;
    const chat = JSON.parse(body);
    const content = `answered by ${name}`;
    const usage = { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 };
    if (chat.stream !== true) {
      return json(200, {
        id: `chatcmpl-${name}-${calls}`,
        object: 'chat.completion',
        created: 1,
        model: MODEL,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage,
      });
    }
    const chunk = (delta, finishReason) =>
      `data: ${JSON.stringify({ id: `chatcmpl-${name}-${calls}`, object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(
      `${chunk({ role: 'assistant' }, null)}${chunk({ content }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`,
    );
  });
});
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
