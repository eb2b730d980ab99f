/**
 * The Responses API of the built `fusion serve`, driven by the clients that speak it: the official
 * `openai` package (`responses.create`, `responses.stream`) and the OpenAI Agents SDK running an
 * agent with a function tool to completion, against a plain model and a fallback pipeline whose
 * first target fails. Stored responses live in the server's state (SQLite, Redis): they outlive a
 * restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, OpenAIProvider, Runner, tool } from '@openai/agents';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

const REPLY = 'Hello from the mock upstream, streamed word by word.';
const WORDS = REPLY.split(' ').length;
const PLAIN = 'lab/qwen2.5-0.5b-instruct-4bit';
const PIPELINE = 'fusion/fallback';

describe.each(['sqlite', 'redis'] as const)('fusion serve: the Responses API, %s state', (backend) => {
  let upstream: MockUpstream;
  let redis: TestRedis | undefined;
  let stateEnv: Record<string, string> = { FUSION_REDIS_URL: '' };
  let cwd: string;
  let cli: RunningCli;
  let client: OpenAI;

  const start = async () => {
    cli = await spawnCli(['serve'], { FUSION_STATE: '', ...stateEnv }, cwd);
    client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await vi.waitFor(
      async () => expect((await client.models.list()).data.map((model) => model.id)).toContain(PLAIN),
      { timeout: 15_000, interval: 100 },
    );
  };

  beforeAll(async () => {
    upstream = await startMockUpstream({ reply: REPLY });
    if (backend === 'redis') {
      redis = await startTestRedis();
      stateEnv = { FUSION_REDIS_URL: redis.url, FUSION_REDIS_PREFIX: redis.prefix };
    }
    cwd = mkdtempSync(join(tmpdir(), 'fusion-responses-'));
    writeFileSync(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({
        upstreams: {
          lab: upstream.baseURL,
          broken: { baseURL: upstream.baseURL, headers: { 'x-mock-behavior': 'error-500' } },
        },
        resilience: { retry: { maxRetries: 0 } },
        pipelines: [
          { name: PIPELINE, strategy: 'fallback', targets: ['broken/qwen2.5-0.5b-instruct-4bit', PLAIN] },
        ],
      }),
    );
    await start();
  });

  afterAll(async () => {
    await cli?.stop('SIGKILL');
    await upstream?.close();
    await redis?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  describe.each([PLAIN, PIPELINE])('%s', (model) => {
    it('answers responses.create; the stream replayed by the client parser has the same text and usage', async () => {
      const answer = await client.responses.create({ model, input: 'Hi', instructions: 'Be brief.' });
      expect(answer).toMatchObject({ status: 'completed', model });
      expect(answer.output_text).toBe(REPLY);
      expect(answer.usage).toMatchObject({
        input_tokens: 12,
        output_tokens: WORDS,
        total_tokens: 12 + WORDS,
      });

      const stream = client.responses.stream({ model, input: 'Hi', instructions: 'Be brief.' });
      let deltas = 0;
      for await (const event of stream) if (event.type === 'response.output_text.delta') deltas++;
      const final = await stream.finalResponse();
      expect(deltas).toBe(WORDS);
      expect(final.output_text).toBe(answer.output_text);
      expect(final.usage).toEqual(answer.usage);
    });

    it.each([false, true])(
      'runs an Agents SDK agent with a function tool to completion (stream: %s)',
      async (streamed) => {
        const cities: string[] = [];
        const getWeather = tool({
          name: 'get_weather',
          description: 'Current weather of a city.',
          parameters: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            cities.push(city);
            return `18 °C in ${city}`;
          },
        });
        const agent = new Agent({
          name: 'Weather',
          instructions: 'Answer about the weather.',
          model,
          tools: [getWeather],
        });
        const runner = new Runner({
          modelProvider: new OpenAIProvider({ openAIClient: client, useResponses: true }),
          tracingDisabled: true,
        });
        const seen = upstream.requests.length;
        let finalOutput: unknown;
        if (streamed) {
          const result = await runner.run(agent, 'Weather in Paris?', { stream: true });
          for await (const _event of result);
          await result.completed;
          finalOutput = result.finalOutput;
        } else {
          finalOutput = (await runner.run(agent, 'Weather in Paris?')).finalOutput;
        }
        expect(cities).toEqual(['Paris']);
        expect(finalOutput).toBe(REPLY);
        // The second turn reached the model as a chat with the call and its result.
        const chats = upstream.requests
          .slice(seen)
          .filter(
            (request) => request.path === '/v1/chat/completions' && !request.headers['x-mock-behavior'],
          );
        expect((chats.at(-1)!.body as { messages: unknown[] }).messages).toMatchObject([
          { role: 'system', content: 'Answer about the weather.' },
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', tool_calls: [{ id: 'call_1', function: { name: 'get_weather' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '18 °C in Paris' },
        ]);
      },
    );
  });

  it('keeps stored responses in its state: previous_response_id works after a restart', async () => {
    const first = await client.responses.create({
      model: PLAIN,
      input: 'Weather in Paris?',
      tools: [weather],
    });
    expect(first.output).toMatchObject([{ type: 'function_call', call_id: 'call_1', name: 'get_weather' }]);
    expect(cli.output()).toContain(backend === 'redis' ? `(${redis!.prefix}:*)` : 'state: sqlite');
    await cli.stop('SIGKILL');
    await start();
    expect(await client.responses.retrieve(first.id)).toMatchObject({ id: first.id, status: 'completed' });
    const second = await client.responses.create({
      model: PLAIN,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_1', output: '18 °C' }],
      tools: [weather],
    });
    expect(second.output_text).toBe(REPLY);
  });

  it('runs a background response as a durable job', async () => {
    const queued = await client.responses.create({ model: PLAIN, input: 'Hi', background: true });
    expect(queued.status).toBe('queued');
    await expect
      .poll(async () => (await client.responses.retrieve(queued.id)).status, { timeout: 15_000 })
      .toBe('completed');
    expect((await client.responses.retrieve(queued.id)).output_text).toBe(REPLY);
  });

  it('answers built-in tools with a 400 naming the field, before any upstream call', async () => {
    const seen = upstream.requests.length;
    const error = await client.responses
      .create({ model: PIPELINE, input: 'Hi', tools: [{ type: 'web_search' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'tools[0].type' });
    const unknown = await client.responses
      .create({ model: PLAIN, input: 'Hi', previous_response_id: 'resp_unknown' })
      .catch((caught: unknown) => caught);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(
      upstream.requests.slice(seen).filter((request) => request.path === '/v1/chat/completions'),
    ).toEqual([]);
  });
});

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};
