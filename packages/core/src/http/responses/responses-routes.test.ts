import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BASE } from '../../__fixtures__/http.js';
import { createToolProvider } from '../../__fixtures__/tool-provider.js';
import { UnavailableError } from '../../errors/unavailable-error.js';
import { createFusion, type Fusion } from '../../fusion/fusion.js';
import type { FusionOptions } from '../../fusion/fusion-options.js';
import { JobRunner } from '../../jobs/job-runner.js';

const MODEL = 'tools/agent';
const REPLY = 'It is 18 degrees in Paris.';
const WEATHER = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather of a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

const started: Fusion[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fusion) => fusion.close({ timeoutMs: 100 })));
});

/** The official client, talking to `fusion.handle` without a server. */
async function start(
  provider = createToolProvider(),
  options: FusionOptions = {},
): Promise<{ client: OpenAI; provider: typeof provider; fusion: Fusion }> {
  const fusion = createFusion({ healthIntervalMs: 0, providers: [provider], ...options });
  started.push(fusion);
  await fusion.ready;
  const client = new OpenAI({
    baseURL: `${BASE}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
    fetch: (url, init) => fusion.handle(new Request(url, init)),
  });
  return { client, provider, fusion };
}

describe('POST /v1/responses', () => {
  it('answers a string input with output_text and usage', async () => {
    const { client, provider } = await start();
    const response = await client.responses.create({
      model: MODEL,
      input: 'Weather in Paris?',
      instructions: 'Be brief.',
    });
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: MODEL, error: null });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text).toBe(REPLY);
    expect(response.output).toMatchObject([
      {
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: REPLY }],
      },
    ]);
    expect(response.usage).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 6,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 16,
    });
    expect(provider.requests[0]?.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris?' },
    ]);
  });

  it('streams the full event sequence; the client parser yields the same text and usage', async () => {
    const { client } = await start();
    const answer = await client.responses.create({ model: MODEL, input: 'Weather in Paris?' });
    const stream = client.responses.stream({ model: MODEL, input: 'Weather in Paris?' });
    const types: string[] = [];
    let deltas = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
    }
    const final = await stream.finalResponse();
    expect(deltas).toBe(REPLY);
    expect(final.output_text).toBe(answer.output_text);
    expect(final.usage).toEqual(answer.usage);
    expect(final.status).toBe('completed');
    const words = REPLY.split(' ').length;
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(words).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  it('returns function calls and continues from function_call_output, stored or sent back', async () => {
    const { client, provider } = await start();
    const first = await client.responses.create({
      model: MODEL,
      input: 'Weather in Paris?',
      tools: [WEATHER],
    });
    expect(first.output).toMatchObject([
      {
        type: 'function_call',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
    ]);
    expect(provider.requests[0]?.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: WEATHER.description,
          parameters: WEATHER.parameters,
          strict: false,
        },
      },
    ]);

    // Chained through the store.
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_1', output: '18 °C' }],
      tools: [WEATHER],
    });
    expect(second.output_text).toBe(REPLY);
    expect(second.previous_response_id).toBe(first.id);
    const chained = provider.requests.at(-1)!.messages;
    expect(chained).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18 °C' },
    ]);

    // Stateless: the whole conversation sent back, as clients with `store: false` do.
    await client.responses.create({
      model: MODEL,
      store: false,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: 'call_1', output: '18 °C' },
      ],
      tools: [WEATHER],
    });
    expect(provider.requests.at(-1)!.messages).toEqual(chained);
  });

  it('streams a function call with argument deltas', async () => {
    const { client } = await start();
    const stream = client.responses.stream({ model: MODEL, input: 'Weather in Paris?', tools: [WEATHER] });
    const types: string[] = [];
    const args: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.function_call_arguments.delta') args.push(event.delta);
    }
    expect(args).toEqual(['{"city":', '"Paris"}']);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const final = await stream.finalResponse();
    expect(final.output).toMatchObject([
      {
        type: 'function_call',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
    ]);
    expect(final.usage?.output_tokens).toBe(7);
  });

  it('gives reasoning text its own output item, streamed and not', async () => {
    const { client } = await start(createToolProvider({ reasoning: 'Paris is in France.' }));
    const answer = await client.responses.create({ model: MODEL, input: 'Weather?' });
    expect(answer.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(answer.output[0]).toMatchObject({
      content: [{ type: 'reasoning_text', text: 'Paris is in France.' }],
    });
    const final = await client.responses.stream({ model: MODEL, input: 'Weather?' }).finalResponse();
    expect(final.output).toMatchObject([
      { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Paris is in France.' }] },
      { type: 'message', content: [{ text: REPLY }] },
    ]);
    expect(final.output_text).toBe(REPLY);
  });

  it('maps text.format, max_output_tokens and tool_choice to the chat request', async () => {
    const { client, provider } = await start();
    await client.responses.create({
      model: MODEL,
      input: 'Weather?',
      max_output_tokens: 50,
      temperature: 0.2,
      tools: [WEATHER],
      tool_choice: { type: 'function', name: 'get_weather' },
      text: { format: { type: 'json_schema', name: 'weather', schema: { type: 'object' }, strict: true } },
    });
    expect(provider.requests[0]).toMatchObject({
      max_tokens: 50,
      temperature: 0.2,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', schema: { type: 'object' }, strict: true },
      },
    });
  });
});

describe('bad input', () => {
  it.each([
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ tools: [{ type: 'function', name: 'bad name!' }] }, 'tools[0].name'],
    [{ input: [{ type: 'file_search_call', id: 'fs_1' }] }, 'input[0].type'],
    [
      { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] },
      'input[0].content[0].type',
    ],
    [{ input: [{ type: 'function_call_output', output: 'x' }] }, 'input[0].call_id'],
    [{ conversation: 'conv_1' }, 'conversation'],
    [{ frobnicate: true }, 'frobnicate'],
    [{ temperature: 5 }, 'temperature'],
    [{ input: 42 }, 'input'],
    [{ background: true, store: false }, 'store'],
  ])('400 naming the field for %j', async (fields, param) => {
    const { client, provider } = await start();
    const error = await client.responses
      .create({ model: MODEL, input: 'Hi', ...(fields as object) } as never)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param });
    expect(provider.requests).toHaveLength(0);
  });

  it('404 for an unknown previous_response_id and an unknown model', async () => {
    const { client } = await start();
    const previous = await client.responses
      .create({ model: MODEL, input: 'Hi', previous_response_id: 'resp_nope' })
      .catch((caught: unknown) => caught);
    expect(previous).toBeInstanceOf(OpenAI.NotFoundError);
    expect(previous).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
    const model = await client.responses
      .create({ model: 'tools/nope', input: 'Hi' })
      .catch((caught: unknown) => caught);
    expect(model).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('goes through the cross-site guard: another site cannot create or read responses', async () => {
    const { fusion, provider } = await start();
    const response = await fusion.handle(
      new Request(`${BASE}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
        body: JSON.stringify({ model: MODEL, input: 'Hi' }),
      }),
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(provider.requests).toHaveLength(0);
  });

  it('400 for a body that is not JSON', async () => {
    const { fusion } = await start();
    const response = await fusion.handle(
      new Request(`${BASE}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{',
      }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('stored responses', () => {
  it('retrieves, lists input items, deletes; store: false keeps nothing', async () => {
    const { client } = await start();
    const response = await client.responses.create({
      model: MODEL,
      input: [
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'input_text', text: 'two' }] },
      ],
    });
    expect(await client.responses.retrieve(response.id)).toMatchObject({
      id: response.id,
      output_text: REPLY,
    });
    const items = [];
    for await (const item of client.responses.inputItems.list(response.id, { order: 'asc' }))
      items.push(item);
    expect(items).toMatchObject([
      { type: 'message', role: 'user', content: 'one' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'two' }] },
    ]);
    expect(items.every((item) => typeof item.id === 'string' && item.id.length > 0)).toBe(true);
    const page = await client.responses.inputItems.list(response.id, { limit: 1 });
    expect(page.data).toMatchObject([{ content: [{ text: 'two' }] }]);
    expect(page.has_more).toBe(true);

    await client.responses.delete(response.id);
    await expect(client.responses.retrieve(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    const unstored = await client.responses.create({ model: MODEL, input: 'Hi', store: false });
    expect(unstored).toMatchObject({ store: false });
    await expect(client.responses.retrieve(unstored.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('stores a streamed response before its last event', async () => {
    const { client } = await start();
    const stream = client.responses.stream({ model: MODEL, input: 'Hi' });
    let id = '';
    for await (const event of stream) {
      if (event.type === 'response.completed') {
        id = event.response.id;
        expect((await client.responses.retrieve(id)).status).toBe('completed');
      }
    }
    expect(id).toMatch(/^resp_/);
  });
  it('with API keys, a stored response is seen only by the key that created it', async () => {
    const { fusion } = await start(undefined, { apiKeys: ['key-a-secret', 'key-b-secret'] });
    const clientOf = (apiKey: string) =>
      new OpenAI({
        baseURL: `${BASE}/v1`,
        apiKey,
        maxRetries: 0,
        fetch: (url, init) => fusion.handle(new Request(url, init)),
      });
    const a = clientOf('key-a-secret');
    const b = clientOf('key-b-secret');
    const created = await a.responses.create({ model: MODEL, input: 'Weather in Paris?' });
    expect((await a.responses.retrieve(created.id)).id).toBe(created.id);
    for (const attempt of [
      () => b.responses.retrieve(created.id),
      () => b.responses.inputItems.list(created.id),
      () => b.responses.delete(created.id),
      () => b.responses.create({ model: MODEL, input: 'And tomorrow?', previous_response_id: created.id }),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    }
    // Still there for its owner, and it continues from it.
    const next = await a.responses.create({
      model: MODEL,
      input: 'And tomorrow?',
      previous_response_id: created.id,
    });
    expect(next.status).toBe('completed');
  });
});

describe('background responses', () => {
  it('runs as a job: queued, then completed', async () => {
    const { client } = await start(createToolProvider({ delayMs: 20 }));
    const queued = await client.responses.create({ model: MODEL, input: 'Hi', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [] });
    await vi.waitFor(
      async () => expect((await client.responses.retrieve(queued.id)).status).toBe('completed'),
      { timeout: 10_000, interval: 50 },
    );
    expect((await client.responses.retrieve(queued.id)).output_text).toBe(REPLY);
  });

  it('leaves no queued response behind when its job cannot be created', async () => {
    const jobs = new JobRunner();
    let id: string | undefined;
    vi.spyOn(jobs, 'create').mockImplementation((options) => {
      id = (options.input as { id: string }).id;
      throw new UnavailableError('The job could not be queued; try again.', { retryAfterMs: 1000 });
    });
    const { client } = await start(createToolProvider(), { responses: { jobs } });
    const failed = client.responses.create({ model: MODEL, input: 'Hi', background: true });
    await expect(failed).rejects.toMatchObject({ status: 503 });
    expect(id).toMatch(/^resp_/);
    await expect(client.responses.retrieve(id!)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('cancels a running one; only background responses can be cancelled', async () => {
    const { client } = await start(createToolProvider({ delayMs: 60_000 }));
    const queued = await client.responses.create({ model: MODEL, input: 'Hi', background: true });
    const cancelled = await client.responses.cancel(queued.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await client.responses.retrieve(queued.id)).status).toBe('cancelled');

    const { client: quick } = await start();
    const plain = await quick.responses.create({ model: MODEL, input: 'Hi' });
    await expect(quick.responses.cancel(plain.id)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
