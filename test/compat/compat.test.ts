/**
 * The compatibility suite: one list of scenarios, run against every adapter (TARGETS) through a real
 * server on port 0, with the clients people use: the official `openai` package and LangChain's
 * ChatOpenAI / OpenAIEmbeddings. The models are served by a real mock of mlx-openai-server.
 */
import { createFusion, type Fusion, type FusionOptions } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';
import { AIMessage, HumanMessage, ToolMessage, type UsageMetadata } from '@langchain/core/messages';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { type RunningTarget, TARGETS } from './compat-targets.js';

const REPLY = 'Hello from the mock upstream, streamed word by word.';
const WORDS = REPLY.split(' ').length;
const MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';
/** The same model, 100 ms between chunks (the mock's `slow` behaviour). */
const SLOW_MODEL = 'slow/qwen2.5-0.5b-instruct-4bit';
/** The same model, never answering (the mock's `hang` behaviour). */
const HANGING_MODEL = 'hang/qwen2.5-0.5b-instruct-4bit';
const EMBEDDING_MODEL = 'lab/bge-small-en';
const MAX_BODY_BYTES = 256 * 1024;
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather of a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await startMockUpstream({ reply: REPLY });
});
afterAll(() => upstream?.close());

function fusionFor(options: FusionOptions = {}): Fusion {
  const provider = (id: string, behavior?: string) =>
    createOpenAICompatible({
      id,
      baseURL: upstream.baseURL,
      headers: behavior ? { 'x-mock-behavior': behavior } : {},
    });
  return createFusion({
    providers: [provider('lab'), provider('slow', 'slow'), provider('hang', 'hang')],
    maxBodyBytes: MAX_BODY_BYTES,
    healthIntervalMs: 0,
    ...options,
  });
}

/** Resolves with the abort the upstream records next, for the chat path. */
async function nextUpstreamAbort(after: number): Promise<number> {
  await vi.waitFor(() => expect(upstream.aborts.length).toBeGreaterThan(after), { timeout: 2000 });
  return upstream.aborts[after]!.at;
}

function lastChatRequest(): { messages: Record<string, unknown>[]; tools?: unknown[] } {
  const requests = upstream.requests.filter((request) => request.path === '/v1/chat/completions');
  return requests.at(-1)!.body as { messages: Record<string, unknown>[] };
}

describe.each(TARGETS)('$name', (target) => {
  let fusion: Fusion;
  let server: RunningTarget;
  let openai: OpenAI;
  const chatModel = (model = MODEL, fields: Record<string, unknown> = {}) =>
    new ChatOpenAI({
      model,
      apiKey: 'unused',
      maxRetries: 0,
      configuration: { baseURL: server.baseURL },
      ...fields,
    });

  beforeAll(async () => {
    fusion = fusionFor();
    await fusion.ready;
    server = await target.start(fusion);
    openai = new OpenAI({ baseURL: server.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await fusion?.close({ timeoutMs: 100 });
  });

  describe('chat', () => {
    it('openai', async () => {
      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe(REPLY);
      expect(completion.model).toBe(MODEL);
      expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: WORDS });
    });

    it('LangChain', async () => {
      const answer = await chatModel().invoke('Hi');
      expect(answer.content).toBe(REPLY);
      expect(answer.usage_metadata).toMatchObject({ input_tokens: 12, output_tokens: WORDS });
    });
  });

  describe('stream arrives incrementally', () => {
    // The slow upstream sends a word every 100 ms: a buffering adapter would deliver them all at once.
    const spreadMs = (arrivals: number[]) => arrivals.at(-1)! - arrivals[0]!;

    it('openai', async () => {
      const stream = await openai.chat.completions.create({
        model: SLOW_MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      });
      const arrivals: number[] = [];
      let text = '';
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (!content) continue;
        arrivals.push(Date.now());
        text += content;
      }
      expect(text).toBe(REPLY);
      expect(arrivals).toHaveLength(WORDS);
      expect(spreadMs(arrivals)).toBeGreaterThanOrEqual(((WORDS - 1) * 100) / 2);
    });

    it('LangChain', async () => {
      const arrivals: number[] = [];
      let text = '';
      for await (const chunk of await chatModel(SLOW_MODEL).stream('Hi')) {
        if (typeof chunk.content !== 'string' || chunk.content === '') continue;
        arrivals.push(Date.now());
        text += chunk.content;
      }
      expect(text).toBe(REPLY);
      expect(spreadMs(arrivals)).toBeGreaterThanOrEqual(((WORDS - 1) * 100) / 2);
    });
  });

  describe('usage in stream', () => {
    it('openai', async () => {
      const stream = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual({ prompt_tokens: 12, completion_tokens: WORDS, total_tokens: 12 + WORDS });
    });

    it('LangChain', async () => {
      let usage: UsageMetadata | undefined;
      for await (const chunk of await chatModel(MODEL, { streamUsage: true }).stream('Hi')) {
        if (chunk.usage_metadata) usage = { ...chunk.usage_metadata };
      }
      expect(usage).toMatchObject({ input_tokens: 12, output_tokens: WORDS, total_tokens: 12 + WORDS });
    });
  });

  describe('tool calls round-trip', () => {
    it('openai', async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const first = await openai.chat.completions.create({ model: MODEL, messages, tools: [WEATHER_TOOL] });
      const call = first.choices[0]!.message.tool_calls?.[0];
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call).toMatchObject({
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      });

      // The same call, streamed.
      const stream = await openai.chat.completions.create({
        model: MODEL,
        messages,
        tools: [WEATHER_TOOL],
        stream: true,
      });
      const deltas = [];
      for await (const chunk of stream) deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      expect(deltas[0]).toMatchObject({ index: 0, id: 'call_1', function: { name: 'get_weather' } });

      messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: 'call_1', content: '18 °C' });
      const final = await openai.chat.completions.create({ model: MODEL, messages });
      expect(final.choices[0]?.message.content).toBe(REPLY);
      expect(lastChatRequest().messages.slice(1)).toMatchObject([
        { role: 'assistant', tool_calls: [{ id: 'call_1', function: { name: 'get_weather' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18 °C' },
      ]);
    });

    it('LangChain', async () => {
      const question = new HumanMessage('Weather in Paris?');
      const decision = await chatModel().bindTools([WEATHER_TOOL]).invoke([question]);
      expect(decision).toBeInstanceOf(AIMessage);
      expect(decision.tool_calls).toMatchObject([
        { id: 'call_1', name: 'get_weather', args: { city: 'Paris' } },
      ]);

      const result = new ToolMessage({ tool_call_id: 'call_1', content: '18 °C' });
      const final = await chatModel().invoke([question, decision, result]);
      expect(final.content).toBe(REPLY);
      expect(lastChatRequest().messages.slice(1)).toMatchObject([
        { role: 'assistant', tool_calls: [{ id: 'call_1', function: { name: 'get_weather' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18 °C' },
      ]);
    });
  });

  describe('embeddings', () => {
    it('openai', async () => {
      const result = await openai.embeddings.create({ model: EMBEDDING_MODEL, input: ['a', 'bb'] });
      expect(result.data.map((item) => item.embedding)).toEqual([
        [1, 0.5, -0.25, 1],
        [2, 0.5, -0.25, 1],
      ]);
      expect(result.usage.prompt_tokens).toBe(6);
    });

    it('LangChain', async () => {
      const embeddings = new OpenAIEmbeddings({
        model: EMBEDDING_MODEL,
        apiKey: 'unused',
        maxRetries: 0,
        configuration: { baseURL: server.baseURL },
      });
      expect(await embeddings.embedDocuments(['a', 'bb'])).toEqual([
        [1, 0.5, -0.25, 1],
        [2, 0.5, -0.25, 1],
      ]);
      expect(await embeddings.embedQuery('ccc')).toEqual([3, 0.5, -0.25, 1]);
    });
  });

  it('lists and retrieves models (openai)', async () => {
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining([MODEL, EMBEDDING_MODEL, SLOW_MODEL]));
    expect(await openai.models.retrieve(MODEL)).toMatchObject({ id: MODEL, object: 'model' });
  });

  describe('400 as BadRequestError', () => {
    it('openai', async () => {
      const error = await openai.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], temperature: 5 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param: 'temperature' });
    });

    it('LangChain', async () => {
      const error = await chatModel(MODEL, { temperature: 5 })
        .invoke('Hi')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param: 'temperature' });
    });
  });

  describe('404 as NotFoundError', () => {
    it('openai', async () => {
      const error = await openai.chat.completions
        .create({ model: 'lab/no-such-model', messages: [{ role: 'user', content: 'Hi' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
      await expect(openai.models.retrieve('lab/no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('LangChain', async () => {
      const error = await chatModel('lab/no-such-model')
        .invoke('Hi')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'model_not_found', lc_error_code: 'MODEL_NOT_FOUND' });
    });
  });

  describe('413 as an APIError with the status', () => {
    const tooLarge = 'x'.repeat(MAX_BODY_BYTES + 1024);

    it('openai', async () => {
      const error = await openai.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: tooLarge }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    });

    it('LangChain', async () => {
      const error = await chatModel()
        .invoke(tooLarge)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    });
  });

  describe('429 as RateLimitError when the queue is full', () => {
    let busy: Fusion;
    let busyServer: RunningTarget;
    let release: AbortController;

    beforeAll(async () => {
      busy = fusionFor({ queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 } });
      await busy.ready;
      busyServer = await target.start(busy);
      // One request that never gets its answer holds the model's only slot.
      release = new AbortController();
      const seen = upstream.requests.length;
      fetch(`${busyServer.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: HANGING_MODEL, messages: [{ role: 'user', content: 'Hi' }] }),
        signal: release.signal,
      }).catch(() => {});
      await vi.waitFor(() => {
        const arrived = upstream.requests
          .slice(seen)
          .some((request) => request.path === '/v1/chat/completions');
        expect(arrived).toBe(true);
      });
    });
    afterAll(async () => {
      release?.abort();
      await busyServer?.close();
      await busy?.close({ timeoutMs: 100 });
    });

    it('openai', async () => {
      const client = new OpenAI({ baseURL: busyServer.baseURL, apiKey: 'unused', maxRetries: 0 });
      const error = await client.chat.completions
        .create({ model: HANGING_MODEL, messages: [{ role: 'user', content: 'Hi' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect((error as { headers?: Headers }).headers?.get('retry-after')).toMatch(/^\d+$/);
    });

    it('LangChain', async () => {
      const model = new ChatOpenAI({
        model: HANGING_MODEL,
        apiKey: 'unused',
        maxRetries: 0,
        configuration: { baseURL: busyServer.baseURL },
      });
      const error = await model.invoke('Hi').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error).toMatchObject({ status: 429, lc_error_code: 'MODEL_RATE_LIMIT' });
    });
  });

  it('echoes x-request-id on answers, streams and errors (openai)', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hi' }];
    const answer = await openai.chat.completions
      .create({ model: MODEL, messages }, { headers: { 'x-request-id': 'compat-1' } })
      .withResponse();
    expect(answer.response.headers.get('x-request-id')).toBe('compat-1');
    const upstreamHeaders = upstream.requests.filter((request) => request.path === '/v1/chat/completions');
    expect(upstreamHeaders.at(-1)?.headers['x-request-id']).toBe('compat-1');

    const stream = await openai.chat.completions
      .create({ model: MODEL, messages, stream: true }, { headers: { 'x-request-id': 'compat-2' } })
      .withResponse();
    for await (const _chunk of stream.data);
    expect(stream.response.headers.get('x-request-id')).toBe('compat-2');

    const error = await openai.chat.completions
      .create({ model: 'lab/no-such-model', messages }, { headers: { 'x-request-id': 'compat-3' } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 404, requestID: 'compat-3' });

    const generated = await openai.models.list().withResponse();
    expect(generated.response.headers.get('x-request-id')).toMatch(/\S{8,}/);
  });

  /**
   * The upstream sends one word every 100 ms. The client aborts after the first: the upstream must
   * see its request cut (an abort, not a finished answer) before the rest of the words would have
   * gone out. Measured on the order of events, not a tight clock: aborts reach the upstream in a few
   * ms, but a busy 2-core machine has taken 190.
   */
  const remainingStreamMs = (REPLY.split(' ').length - 1) * 100;

  describe('client abort mid-stream cancels the upstream before it finishes', () => {
    it('openai', async () => {
      const before = upstream.aborts.length;
      const stream = await openai.chat.completions.create({
        model: SLOW_MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      });
      let abortedAt = 0;
      for await (const chunk of stream) {
        if (!chunk.choices[0]?.delta.content) continue;
        abortedAt = Date.now();
        stream.controller.abort();
        break;
      }
      expect((await nextUpstreamAbort(before)) - abortedAt).toBeLessThan(remainingStreamMs);
      await vi.waitFor(() => expect(fusion.inFlight).toBe(0));
    });

    it('LangChain', async () => {
      const before = upstream.aborts.length;
      const controller = new AbortController();
      let abortedAt = 0;
      const reading = (async () => {
        for await (const chunk of await chatModel(SLOW_MODEL).stream('Hi', { signal: controller.signal })) {
          if (chunk.content === '') continue;
          abortedAt = Date.now();
          controller.abort();
        }
      })();
      await expect(reading).rejects.toThrow(/abort/i);
      expect((await nextUpstreamAbort(before)) - abortedAt).toBeLessThan(remainingStreamMs);
      await vi.waitFor(() => expect(fusion.inFlight).toBe(0));
    });
  });
});
