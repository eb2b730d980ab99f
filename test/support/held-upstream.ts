/**
 * A real upstream whose streams stay open until the test lets them finish, so that a test can count
 * where requests wait: at the upstream (`inFlight`, `peak`) or in the orchestrator's queue.
 * `/v1/queue/stats` reports `maxConcurrency` like mlx-openai-server-lab when given, else 404 (vLLM).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldUpstream {
  baseURL: string;
  /** Chat requests open at the upstream now, and the most at once. */
  inFlight(): number;
  peak(): number;
  /** Finishes every held stream and every later one at once. */
  releaseAll(): void;
  close(): Promise<void>;
}

export const HELD_MODEL = 'held-model';

export async function startHeldUpstream(options: { maxConcurrency?: number } = {}): Promise<HeldUpstream> {
  let inFlight = 0;
  let peak = 0;
  let released = false;
  const held: ServerResponse[] = [];
  const finish = (response: ServerResponse) => {
    const chunk = (delta: object, finishReason: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl_held', object: 'chat.completion.chunk', created: 1, model: HELD_MODEL, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
    response.end(`${chunk({ content: 'done' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
  };
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/health') return json(200, { status: 'ok' });
    if (path === '/v1/models')
      return json(200, {
        object: 'list',
        data: [{ id: HELD_MODEL, object: 'model', created: 1, owned_by: 'local' }],
      });
    if (path === '/v1/queue/stats') {
      if (options.maxConcurrency === undefined) return json(404, { detail: 'Not Found' });
      const stats = { running: true, queue_size: 0, max_queue_size: 100, active_requests: inFlight };
      return json(200, {
        status: 'ok',
        queue_stats: { queue_stats: { ...stats, max_concurrency: options.maxConcurrency } },
      });
    }
    if (path !== '/v1/chat/completions') return json(404, { detail: 'Not Found' });
    request.resume();
    inFlight++;
    peak = Math.max(peak, inFlight);
    response.on('close', () => inFlight--);
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(
      `data: ${JSON.stringify({ id: 'chatcmpl_held', object: 'chat.completion.chunk', created: 1, model: HELD_MODEL, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })}\n\n`,
    );
    if (released) finish(response);
    else held.push(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    inFlight: () => inFlight,
    peak: () => peak,
    releaseAll: () => {
      released = true;
      for (const response of held.splice(0)) finish(response);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
