import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../../test/support/mock-upstream.js';
import { type ExampleProcess, runNode, waitForOutput } from '../../support/run-example.js';

const EXAMPLE = fileURLToPath(new URL('..', import.meta.url));
const MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';

describe('examples/express-app', () => {
  let upstream: MockUpstream;
  let app: ExampleProcess;
  let url: string;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startMockUpstream();
    app = runNode(['--import', 'tsx', 'src/server.ts'], {
      cwd: EXAMPLE,
      env: { PORT: '0', UPSTREAM_URL: upstream.baseURL },
    });
    [, url = ''] = await waitForOutput(app, /App listening on (http:\/\/\S+)/);
    client = new OpenAI({ baseURL: `${url}/ai/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await upstream?.close();
  });

  it('keeps serving its own routes, with its own JSON parser', async () => {
    const created = await fetch(`${url}/todos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Ship the adapters' }),
    });
    expect(created.status).toBe(201);
    const todos = await (await fetch(`${url}/todos`)).json();
    expect(todos).toEqual([
      { id: 1, title: 'Try the orchestrator' },
      { id: 2, title: 'Ship the adapters' },
    ]);
  });

  it('answers the openai client under /ai, after express.json() read the body', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe(
      'Hello from the mock upstream, streamed word by word.',
    );

    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let total = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      total = chunk.usage?.total_tokens ?? total;
    }
    expect(text).toBe('Hello from the mock upstream, streamed word by word.');
    expect(total).toBeGreaterThan(0);
  });

  it("passes paths the orchestrator does not know on to the app's routes", async () => {
    expect(await (await fetch(`${url}/ai/status`)).json()).toMatchObject({ inFlight: 0 });
    const unknown = await fetch(`${url}/ai/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'Nothing at GET /ai/nothing-here.' });
    // A 404 about a model is the orchestrator's answer, not a missing route.
    await expect(client.models.retrieve('lab/none')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    expect(await app.stop('SIGTERM')).toBe(0);
  });
});
