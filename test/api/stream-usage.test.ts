import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFusion, definePipeline } from '@fusionkit/core';
import { serve } from '@fusionkit/node';
import { createOpenAICompatible } from '@fusionkit/openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Usage of streamed answers, whatever the upstream's shape. The upstream here behaves like OpenAI,
 * vLLM and llama.cpp: eight content chunks, a finish chunk, and the usage only when the request asks
 * for it with `stream_options.include_usage`. The model's name picks where the usage goes:
 * `separate` (a last chunk with empty `choices`), `inline` (on the finish chunk) or `none` (never).
 */
const USAGE = { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 };
const WORDS = ['one ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight'];

function startUpstream(): Promise<Server> {
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (part: Buffer) => {
      raw += part;
    });
    request.on('end', async () => {
      if (request.url === '/v1/models') {
        const data = ['separate', 'inline', 'none'].map((id) => ({
          id,
          object: 'model',
          created: 1,
          owned_by: 'x',
        }));
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ object: 'list', data }));
        return;
      }
      if (request.url !== '/v1/chat/completions') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
        return;
      }
      const body = JSON.parse(raw) as {
        model: string;
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
      };
      const asked = body.stream_options?.include_usage === true;
      if (!body.stream) {
        const result = {
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: body.model,
          choices: [
            { index: 0, message: { role: 'assistant', content: WORDS.join('') }, finish_reason: 'stop' },
          ],
          ...(body.model === 'none' ? {} : { usage: USAGE }),
        };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
        return;
      }
      const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model };
      const send = (chunk: object) => response.write(`data: ${JSON.stringify({ ...base, ...chunk })}\n\n`);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      for (const word of WORDS) {
        send({
          choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
          ...(asked ? { usage: null } : {}),
        });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const inline = body.model === 'inline' && asked;
      send({
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        ...(inline ? { usage: USAGE } : {}),
      });
      if (body.model === 'separate' && asked) send({ choices: [], usage: USAGE });
      response.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('usage of streamed answers, through the whole stack with the openai client', () => {
  let upstream: Server;
  let server: Awaited<ReturnType<typeof serve>>;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startUpstream();
    const { port } = upstream.address() as AddressInfo;
    const fusion = createFusion({
      // The default flavor, as `fusion serve` uses it for FUSION_UPSTREAMS.
      providers: [createOpenAICompatible({ id: 'up', baseURL: `http://127.0.0.1:${port}/v1` })],
      pipelines: [
        definePipeline({
          name: 'fusion/vote',
          strategy: 'vote',
          options: { samples: 3, earlyStop: false },
          targets: ['up/separate'],
        }),
        definePipeline({ name: 'fusion/safe', strategy: 'fallback', targets: ['up/none', 'up/inline'] }),
      ],
      healthIntervalMs: 0,
    });
    server = await serve(fusion, { port: 0, signals: false });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  async function streamed(model: string): Promise<OpenAI.ChatCompletionChunk[]> {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Count to eight.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  }

  function expectUsageLast(chunks: OpenAI.ChatCompletionChunk[]): OpenAI.CompletionUsage {
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(WORDS.join(''));
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(last.usage).toBeTruthy();
    return last.usage!;
  }

  it('passes on usage sent in a separate last chunk, on 50 concurrent streams', async () => {
    const all = await Promise.all(Array.from({ length: 50 }, () => streamed('up/separate')));
    for (const chunks of all) expect(expectUsageLast(chunks)).toEqual(USAGE);
  });

  it('passes on usage sent on the finish chunk', async () => {
    expect(expectUsageLast(await streamed('up/inline'))).toEqual(USAGE);
  });

  it('counts the usage of an upstream that never reports it', async () => {
    const usage = expectUsageLast(await streamed('up/none'));
    // Eight content chunks: at least one token each; the prompt is a short message.
    expect(usage.completion_tokens).toBeGreaterThanOrEqual(WORDS.length);
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);

    const completion = await client.chat.completions.create({
      model: 'up/none',
      messages: [{ role: 'user', content: 'Count to eight.' }],
    });
    expect(completion.usage).toEqual(usage);
  });

  it('sums the calls of a fused answer, streamed or not', async () => {
    const usage = expectUsageLast(await streamed('fusion/vote'));
    expect(usage).toEqual({ prompt_tokens: 15, completion_tokens: 24, total_tokens: 39 });
    const completion = await client.chat.completions.create({
      model: 'fusion/vote',
      messages: [{ role: 'user', content: 'Count to eight.' }],
    });
    expect(completion.usage).toEqual(usage);
  });

  it('counts a fused answer whose target reports no usage', async () => {
    const usage = expectUsageLast(await streamed('fusion/safe'));
    expect(usage.completion_tokens).toBeGreaterThanOrEqual(WORDS.length);
  });

  it('sends no usage chunk when the client did not ask', async () => {
    const stream = await client.chat.completions.create({
      model: 'up/separate',
      messages: [{ role: 'user', content: 'Count to eight.' }],
      stream: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.choices.length > 0 && chunk.usage === undefined)).toBe(true);
  });
});
