/**
 * The compatibility suite of the Responses API: the same scenarios on every adapter (TARGETS),
 * through a real server on port 0, with the official `openai` client and the OpenAI Agents SDK, for
 * a plain model and a pipeline. The models are served by a real mock of mlx-openai-server.
 */
import { createFusion, type Fusion } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';
import { Agent, OpenAIProvider, Runner, tool } from '@openai/agents';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { type RunningTarget, TARGETS } from './compat-targets.js';

const REPLY = 'Hello from the mock upstream, streamed word by word.';
const WORDS = REPLY.split(' ').length;
const MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';
const SLOW_MODEL = 'slow/qwen2.5-0.5b-instruct-4bit';
const PIPELINE = 'fusion/fallback';

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await startMockUpstream({ reply: REPLY });
});
afterAll(() => upstream?.close());

function fusionFor(): Fusion {
  const provider = (id: string, behavior?: string) =>
    createOpenAICompatible({
      id,
      baseURL: upstream.baseURL,
      headers: behavior ? { 'x-mock-behavior': behavior } : {},
    });
  return createFusion({
    providers: [provider('lab'), provider('slow', 'slow'), provider('broken', 'error-500')],
    pipelines: [
      { name: PIPELINE, strategy: 'fallback', targets: ['broken/qwen2.5-0.5b-instruct-4bit', MODEL] },
    ],
    resilience: { retry: { maxRetries: 0 } },
    healthIntervalMs: 0,
  });
}

describe.each(TARGETS)('$name', (target) => {
  let fusion: Fusion;
  let server: RunningTarget;
  let openai: OpenAI;

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

  describe.each([MODEL, PIPELINE])('%s', (model) => {
    it('responses.create and responses.stream agree on text and usage', async () => {
      const answer = await openai.responses.create({ model, input: 'Hi' });
      expect(answer.output_text).toBe(REPLY);
      expect(answer.usage).toMatchObject({ input_tokens: 12, output_tokens: WORDS });
      const final = await openai.responses.stream({ model, input: 'Hi' }).finalResponse();
      expect(final.output_text).toBe(answer.output_text);
      expect(final.usage).toEqual(answer.usage);
    });

    it('runs an Agents SDK agent with a function tool to completion', async () => {
      const cities: string[] = [];
      const agent = new Agent({
        name: 'Weather',
        model,
        tools: [
          tool({
            name: 'get_weather',
            description: 'Current weather of a city.',
            parameters: z.object({ city: z.string() }),
            execute: async ({ city }) => {
              cities.push(city);
              return `18 °C in ${city}`;
            },
          }),
        ],
      });
      const runner = new Runner({
        modelProvider: new OpenAIProvider({ openAIClient: openai, useResponses: true }),
        tracingDisabled: true,
      });
      const result = await runner.run(agent, 'Weather in Paris?', { stream: true });
      for await (const _event of result);
      await result.completed;
      expect(cities).toEqual(['Paris']);
      expect(result.finalOutput).toBe(REPLY);
    });
  });

  it('stores, chains, lists input items and deletes', async () => {
    const first = await openai.responses.create({ model: MODEL, input: 'Hi' });
    const second = await openai.responses.create({
      model: MODEL,
      input: 'Again',
      previous_response_id: first.id,
    });
    const chats = upstream.requests.filter((request) => request.path === '/v1/chat/completions');
    expect((chats.at(-1)!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: REPLY },
      { role: 'user', content: 'Again' },
    ]);
    const items = await openai.responses.inputItems.list(second.id);
    expect(items.data).toMatchObject([{ type: 'message', role: 'user', content: 'Again' }]);
    await openai.responses.delete(first.id);
    await expect(openai.responses.retrieve(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('400 naming the field for a built-in tool; 404 for an unknown previous_response_id', async () => {
    const builtin = await openai.responses
      .create({ model: MODEL, input: 'Hi', tools: [{ type: 'web_search' }] })
      .catch((caught: unknown) => caught);
    expect(builtin).toBeInstanceOf(OpenAI.BadRequestError);
    expect(builtin).toMatchObject({ param: 'tools[0].type' });
    const unknown = await openai.responses
      .create({ model: MODEL, input: 'Hi', previous_response_id: 'resp_missing' })
      .catch((caught: unknown) => caught);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('a client abort mid-stream cancels the upstream', async () => {
    const before = upstream.aborts.length;
    const stream = openai.responses.stream({ model: SLOW_MODEL, input: 'Hi' });
    for await (const event of stream) {
      if (event.type !== 'response.output_text.delta') continue;
      stream.abort();
      break;
    }
    await vi.waitFor(() => expect(upstream.aborts.length).toBeGreaterThan(before), { timeout: 5000 });
    await vi.waitFor(() => expect(fusion.inFlight).toBe(0), { timeout: 5000 });
  });
});
