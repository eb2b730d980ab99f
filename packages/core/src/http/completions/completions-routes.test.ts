import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptedProvider } from '../../__fixtures__/scripted-provider.js';
import { createFusion, type Fusion } from '../../fusion/fusion.js';
import { createMockProvider } from '../../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

async function start() {
  const mock = createMockProvider({ id: 'mock', models: [{ id: 'echo', reply: 'A quiet sea at dawn.' }] });
  fusion = createFusion({
    healthIntervalMs: 0,
    providers: [mock],
    pipelines: [{ name: 'fusion/first', strategy: 'fallback', targets: ['mock/echo'] }],
  });
  await fusion.ready;
  const served = fusion;
  const client = new OpenAI({
    baseURL: 'http://localhost/v1',
    apiKey: 'unused',
    maxRetries: 0,
    fetch: (url: string | URL | Request, init?: RequestInit) => served.handle(new Request(url, init)),
  });
  return { fusion: served, mock, client };
}

function post(fusion: Fusion, body: unknown) {
  return fusion.handle(
    new Request('http://localhost/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

describe('POST /v1/completions', () => {
  for (const model of ['mock/echo', 'fusion/first']) {
    it(`answers and streams the same text and usage through ${model}`, async () => {
      const { client, mock } = await start();
      const completion = await client.completions.create({
        model,
        prompt: 'Write a haiku',
        max_tokens: 30,
        stop: 'END',
      });
      expect(completion).toMatchObject({
        object: 'text_completion',
        model,
        choices: [{ text: 'A quiet sea at dawn.', index: 0, logprobs: null, finish_reason: 'stop' }],
      });
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
      expect(mock.calls[0]?.request).toMatchObject({
        model: 'echo',
        max_tokens: 30,
        stop: ['END'],
        messages: [{ role: 'user', content: 'Write a haiku' }],
      });

      const stream = await client.completions.create({
        model,
        prompt: 'Write a haiku',
        max_tokens: 30,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      const reasons: (string | null)[] = [];
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        expect(chunk.model).toBe(model);
        for (const choice of chunk.choices) {
          text += choice.text;
          reasons.push(choice.finish_reason);
        }
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(completion.choices[0]!.text);
      expect(reasons.at(-1)).toBe('stop');
      expect(usage).toEqual(completion.usage);
    });
  }

  it('echoes the prompt when asked, streamed or not', async () => {
    const { client } = await start();
    const completion = await client.completions.create({ model: 'mock/echo', prompt: 'Poem: ', echo: true });
    expect(completion.choices[0]?.text).toBe('Poem: A quiet sea at dawn.');
    const stream = await client.completions.create({
      model: 'mock/echo',
      prompt: 'Poem: ',
      echo: true,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('Poem: A quiet sea at dawn.');
  });

  it('answers what a chat call cannot honour with a 400 naming the field', async () => {
    const { fusion, mock } = await start();
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: [1, 2, 3] }, 'prompt'],
      [{ prompt: ['a', 'b'] }, 'prompt'],
      [{ prompt: 'a', n: 2 }, 'n'],
      [{ prompt: 'a', best_of: 3 }, 'best_of'],
      [{ prompt: 'a', logprobs: 5 }, 'logprobs'],
      [{ prompt: 'a', suffix: 'end' }, 'suffix'],
      [{ prompt: 'a', temperature: 'hot' }, 'temperature'],
      [{}, 'prompt'],
    ];
    for (const [fields, param] of cases) {
      const response = await post(fusion, { model: 'mock/echo', ...fields });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { param: string; message: string } };
      expect(body.error.param).toBe(param);
    }
    expect(mock.calls).toHaveLength(0);
    const unknown = await post(fusion, { model: 'nope/model', prompt: 'a' });
    expect(unknown.status).toBe(404);
  });

  it('ends a stream that fails after its start with an error event', async () => {
    const provider = createScriptedProvider({
      id: 'script',
      stream: [{ content: 'Hello' }, { throw: new Error('upstream fell over') }],
    });
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    await fusion.ready;
    const response = await post(fusion, { model: 'script/model', prompt: 'a', stream: true });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('"text":"Hello"');
    expect(text).toMatch(/data: \{"error":\{/);
    expect(text).not.toContain('[DONE]');
  });
});
