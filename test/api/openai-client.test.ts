import { createFusion } from '@fusionkit/core';
import { serve } from '@fusionkit/node';
import { createOpenAICompatible } from '@fusionkit/openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';

/**
 * The official `openai` client against the whole stack on port 0: node adapter → core → the
 * OpenAI-compatible provider → a real upstream shaped like mlx-openai-server.
 */
describe('the openai client against a real server', () => {
  let upstream: MockUpstream;
  let server: Awaited<ReturnType<typeof serve>>;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startMockUpstream();
    const fusion = createFusion({
      providers: [createOpenAICompatible({ id: 'lab', baseURL: upstream.baseURL })],
      maxBodyBytes: 64 * 1024,
      healthIntervalMs: 0,
    });
    server = await serve(fusion, { port: 0, signals: false });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('chats', async () => {
    const completion = await client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe(
      'Hello from the mock upstream, streamed word by word.',
    );
    expect(completion.model).toBe('lab/qwen2.5-0.5b-instruct-4bit');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams, with usage last when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello from the mock upstream, streamed word by word.');
    expect(chunks.length).toBeGreaterThan(5);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.total_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it('round-trips a tool call', async () => {
    const completion = await client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    });
  });

  it('embeds a string and an array (the client asks for base64 and decodes it)', async () => {
    const one = await client.embeddings.create({ model: 'lab/bge-small-en', input: 'hello' });
    expect(one.data).toHaveLength(1);
    expect(one.data[0]!.embedding).toEqual([5, 0.5, -0.25, 1]);
    const many = await client.embeddings.create({ model: 'lab/bge-small-en', input: ['a', 'bcd'] });
    expect(many.data.map((item) => item.embedding[0])).toEqual([1, 3]);
  });

  it('lists and gets models', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toEqual([
      'lab/qwen2.5-0.5b-instruct-4bit',
      'lab/bge-small-en',
    ]);
    const model = await client.models.retrieve('lab/qwen2.5-0.5b-instruct-4bit');
    expect(model).toMatchObject({ id: 'lab/qwen2.5-0.5b-instruct-4bit', owned_by: 'local-mlx' });
  });

  it('surfaces a 404 as NotFoundError and a 413 as an APIError with status 413', async () => {
    const missing = client.chat.completions.create({
      model: 'lab/nope',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    await expect(missing).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(missing).rejects.toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });

    const huge = client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }],
    });
    await expect(huge).rejects.toBeInstanceOf(OpenAI.APIError);
    await expect(huge).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('surfaces bad input as BadRequestError naming the field', async () => {
    const bad = client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'robot' as 'user', content: 'Hi' }],
    });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toMatchObject({ status: 400, param: 'messages[0].role' });
  });
});
