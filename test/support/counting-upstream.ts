/**
 * A real OpenAI-compatible upstream that answers `answer: <last message>` and counts the chat
 * requests it gets by last message. A message `hold` is left unanswered until `release()`, so that a
 * test can stop the orchestrator in the middle of a job.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingUpstream {
  baseURL: string;
  /** Chat requests received, by last message. */
  counts: Record<string, number>;
  /** Answers held requests and every later `hold` at once. */
  release(): void;
  close(): Promise<void>;
}

export const COUNTING_MODEL = 'counting-model';

export async function startCountingUpstream(): Promise<CountingUpstream> {
  const counts: Record<string, number> = {};
  const held: (() => void)[] = [];
  let released = false;
  const json = (response: ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health') return json(response, 200, { status: 'ok' });
    if (path === '/v1/models') {
      return json(response, 200, {
        object: 'list',
        data: [{ id: COUNTING_MODEL, object: 'model', created: 1, owned_by: 'local' }],
      });
    }
    if (path !== '/v1/chat/completions') return json(response, 404, { error: { message: 'not found' } });
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      const body = JSON.parse(text) as { messages: { content: string }[] };
      const content = String(body.messages.at(-1)?.content);
      counts[content] = (counts[content] ?? 0) + 1;
      const answer = () =>
        json(response, 200, {
          id: `chatcmpl_${counts[content]}`,
          object: 'chat.completion',
          created: 1,
          model: COUNTING_MODEL,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: `answer: ${content}` },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
        });
      if (content === 'hold' && !released) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    counts,
    release() {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
