import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeFusion, startServer, type TestServer } from './__fixtures__/start-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const encoder = new TextEncoder();
const created = 1_700_000_000;

function completion(model: string, content: string) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  };
}

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** A fake orchestrator answering `/v1/chat/completions` the way OpenAI does, JSON or SSE. */
const fusion = fakeFusion(async (request) => {
  const url = new URL(request.url);
  if (request.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
    return new Response(
      JSON.stringify({ error: { message: 'not found', type: 'not_found_error', code: null, param: null } }),
      {
        status: 404,
      },
    );
  }
  const body = (await request.json()) as { model: string; stream?: boolean; messages: { content: string }[] };
  const answer = `echo: ${body.messages.at(-1)?.content}`;
  const headers = { 'x-request-id': request.headers.get('x-request-id') ?? 'generated-id' };
  if (!body.stream) {
    return new Response(JSON.stringify(completion(body.model, answer)), {
      headers: { ...headers, 'content-type': 'application/json' },
    });
  }
  const events = [
    chunk(body.model, { role: 'assistant', content: '' }),
    ...answer
      .split(' ')
      .map((word, index) => chunk(body.model, { content: index === 0 ? word : ` ${word}` })),
    chunk(body.model, {}, 'stop'),
  ];
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = events.shift();
      if (!next) {
        controller.enqueue(encoder.encode('data: [DONE]\n\n'));
        return controller.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(next)}\n\n`));
    },
  });
  return new Response(stream, { headers: { ...headers, 'content-type': 'text/event-stream' } });
});

describe('the official openai client through the adapter', () => {
  it('gets a chat completion', async () => {
    server = await startServer(fusion);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create(
        { model: 'fusion/fast', messages: [{ role: 'user', content: 'hello there' }] },
        { headers: { 'x-request-id': 'req-7' } },
      )
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(data.usage?.total_tokens).toBe(7);
    expect(response.headers.get('x-request-id')).toBe('req-7');
    const seen = fusion.requests.at(-1)!;
    expect(seen.headers.get('authorization')).toBe('Bearer test-key');
  });

  it('streams a chat completion', async () => {
    server = await startServer(fusion);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'fusion/fast',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
    });
    let text = '';
    let finishReason: string | null | undefined;
    for await (const part of stream) {
      text += part.choices[0]?.delta.content ?? '';
      finishReason = part.choices[0]?.finish_reason ?? finishReason;
    }
    expect(text).toBe('echo: one two three');
    expect(finishReason).toBe('stop');
  });

  it('surfaces an OpenAI-shaped error status', async () => {
    server = await startServer(fusion);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
    await expect(client.models.list()).rejects.toMatchObject({ status: 404 });
  });
});
