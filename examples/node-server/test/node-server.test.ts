import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../../test/support/mock-upstream.js';
import { type ExampleProcess, runNode, waitForOutput } from '../../support/run-example.js';

const EXAMPLE = fileURLToPath(new URL('..', import.meta.url));

describe('examples/node-server', () => {
  let upstream: MockUpstream;
  let server: ExampleProcess;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startMockUpstream();
    server = runNode(['--import', 'tsx', 'src/server.ts'], {
      cwd: EXAMPLE,
      env: { PORT: '0', UPSTREAM_URL: upstream.baseURL },
    });
    const [, url] = await waitForOutput(server, /listening on (http:\/\/\S+)\/v1/);
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await upstream?.close();
  });

  it("prints the upstream's models", async () => {
    await waitForOutput(server, /Models: .*lab\/qwen2\.5-0\.5b-instruct-4bit/);
  });

  it('answers the openai client, streaming', async () => {
    const stream = await client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from the mock upstream, streamed word by word.');
  });

  it('shuts down gracefully on SIGTERM', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});
