import { createFusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { attachFusionLogger } from './fusion-logger.js';

const SECRET_PROMPT = 'my bank password is hunter2';
const API_KEY = 'sk-test-never-logged';

async function run(options: { prompts?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const fusion = createFusion({
    providers: [createMockProvider({ id: 'mock', models: [{ id: 'echo', reply: 'Noted.' }] })],
    apiKeys: [API_KEY],
    healthIntervalMs: 0,
  });
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
  const detach = attachFusionLogger(fusion, { logger, ...options });
  await fusion.ready;
  const post = (id: string, body: Record<string, unknown>) =>
    fusion.handle(
      new Request('http://localhost/v1/chat/completions', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${API_KEY}`,
          'x-request-id': id,
        },
        body: JSON.stringify({
          model: 'mock/echo',
          messages: [{ role: 'user', content: SECRET_PROMPT }],
          ...body,
        }),
      }),
    );
  await (await post('plain-1', {})).text();
  await (await post('stream-1', { stream: true })).text();
  await (await post('bad-1', { model: 'mock/nope' })).text();
  detach();
  await (await post('after-1', {})).text();
  await fusion.close();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('attachFusionLogger', () => {
  it('writes JSON lines, each about a request carrying its id, and never the prompt or the key', async () => {
    const lines = await run();
    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests.map((line) => [line.requestId, line.status])).toEqual([
      ['plain-1', 200],
      ['stream-1', 200],
      ['bad-1', 404],
    ]);
    expect(lines.find((line) => line.msg === 'request failed')).toMatchObject({
      requestId: 'bad-1',
      error: { code: 'model_not_found', status: 404 },
    });
    expect(lines.find((line) => line.msg === 'stream end')).toMatchObject({ requestId: 'stream-1' });
    expect(lines.filter((line) => line.msg === 'call end').map((line) => line.requestId)).toEqual([
      'plain-1',
      'stream-1',
    ]);
    for (const line of lines.filter((line) => String(line.msg).match(/request|call|stream/))) {
      expect(line.requestId).toEqual(expect.any(String));
    }
    const text = JSON.stringify(lines);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(API_KEY);
    // Detached: the request after it left no line.
    expect(text).not.toContain('after-1');
  });

  it('logs prompts and answers only when asked', async () => {
    const lines = await run({ prompts: true });
    expect(lines.filter((line) => line.msg === 'prompt').map((line) => line.requestId)).toEqual([
      'plain-1',
      'stream-1',
      'bad-1',
    ]);
    expect(lines.find((line) => line.msg === 'prompt')).toMatchObject({
      messages: [{ role: 'user', content: SECRET_PROMPT }],
    });
    expect(lines.filter((line) => line.msg === 'answer')).toEqual([
      expect.objectContaining({ requestId: 'plain-1', content: ['Noted.'] }),
      expect.objectContaining({ requestId: 'stream-1', content: 'Noted.' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
  });
});
