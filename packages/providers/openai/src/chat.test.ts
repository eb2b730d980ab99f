import { AbortedError, type ChatRequest, TimeoutError } from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  aborted,
  BASE_URL,
  callOptions,
  jsonFixtureResponse,
  upstreamSignal,
} from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';
import type { OpenAICompatibleFlavor } from './openai-compatible-options.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const request: ChatRequest = {
  model: 'qwen2.5-0.5b-instruct-4bit',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
};

/** Answers chat completions with a fixture and records what the upstream received. */
function recordChat(fixture: string) {
  const received: { body?: Record<string, unknown>; headers?: Headers } = {};
  server.use(
    http.post(`${BASE_URL}/chat/completions`, async ({ request: upstreamRequest }) => {
      received.body = (await upstreamRequest.json()) as Record<string, unknown>;
      received.headers = upstreamRequest.headers;
      return jsonFixtureResponse(fixture);
    }),
  );
  return received;
}

describe('doChat', () => {
  it('returns an upstream v1.8.1 answer as a ChatResult', async () => {
    recordChat('upstream-chat.json');
    const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
    const result = await provider.doChat(request, callOptions());
    expect(result).toEqual({
      id: 'chatcmpl_1732712345482913',
      object: 'chat.completion',
      created: 1732712345,
      model: 'qwen2.5-0.5b-instruct-4bit',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Paris is the capital of France.' },
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 31,
        completion_tokens: 8,
        total_tokens: 39,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it('drops the nulls and request_id of a lab answer', async () => {
    recordChat('lab-chat.json');
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const result = await provider.doChat(request, callOptions());
    expect(result.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'Paris is the capital of France.' },
      finish_reason: 'stop',
    });
    expect(result.usage).toEqual({ prompt_tokens: 31, completion_tokens: 8, total_tokens: 39 });
    expect(result).not.toHaveProperty('request_id');
  });

  it.each([
    ['upstream-chat-tool-calls.json', ''],
    ['lab-chat-tool-calls.json', null],
  ])('returns tool calls (%s)', async (fixture, content) => {
    recordChat(fixture);
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const result = await provider.doChat(request, callOptions());
    const choice = result.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe(content);
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' },
      },
    ]);
    expect(JSON.parse(choice.message.tool_calls![0]!.function.arguments)).toEqual({
      city: 'Paris',
      unit: 'celsius',
    });
  });

  it('infers finish_reason "length" when the answer used all of max_tokens', async () => {
    recordChat('upstream-chat.json');
    const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
    const limited = await provider.doChat({ ...request, max_tokens: 8 }, callOptions());
    expect(limited.choices[0]?.finish_reason).toBe('length');
    const roomy = await provider.doChat({ ...request, max_completion_tokens: 9 }, callOptions());
    expect(roomy.choices[0]?.finish_reason).toBe('stop');
  });

  it('forwards x-request-id, the bearer key, static and per-call headers', async () => {
    const received = recordChat('upstream-chat.json');
    const provider = createOpenAICompatible({
      id: 'mlx',
      baseURL: BASE_URL,
      apiKey: 'sk-test',
      headers: { 'X-Tenant': 'acme' },
    });
    await provider.doChat(
      request,
      callOptions({ requestId: 'req-42', headers: { traceparent: '00-abc-def-01' } }),
    );
    expect(received.headers?.get('x-request-id')).toBe('req-42');
    expect(received.headers?.get('authorization')).toBe('Bearer sk-test');
    expect(received.headers?.get('x-tenant')).toBe('acme');
    expect(received.headers?.get('traceparent')).toBe('00-abc-def-01');
    expect(received.headers?.get('content-type')).toBe('application/json');
  });

  describe('request mapping', () => {
    const quirky: ChatRequest = {
      model: 'qwen2.5-0.5b-instruct-4bit',
      messages: [
        { role: 'developer', content: 'Answer in one word.' },
        { role: 'user', content: 'Capital of France?' },
      ],
      stop: 'END',
      n: 1,
      max_completion_tokens: 64,
      stream_options: { include_usage: true },
      temperature: 0.2,
      chat_template_kwargs: { enable_thinking: false },
    };

    it.each<OpenAICompatibleFlavor>(['auto', 'mlx-openai-server'])(
      'applies the mlx-openai-server mappings (%s)',
      async (flavor) => {
        const received = recordChat('upstream-chat.json');
        const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL, flavor });
        await provider.doChat(quirky, callOptions());
        expect(received.body).toEqual({
          model: 'qwen2.5-0.5b-instruct-4bit',
          messages: [
            { role: 'system', content: 'Answer in one word.' },
            { role: 'user', content: 'Capital of France?' },
          ],
          stop: ['END'],
          max_tokens: 64,
          stream: false,
          temperature: 0.2,
          chat_template_kwargs: { enable_thinking: false },
        });
        expect(quirky.messages[0]?.role).toBe('developer');
      },
    );

    it('keeps developer and sends only max_completion_tokens for the openai flavor', async () => {
      const received = recordChat('upstream-chat.json');
      const provider = createOpenAICompatible({ id: 'openai', baseURL: BASE_URL, flavor: 'openai' });
      await provider.doChat(quirky, callOptions());
      expect(received.body).toMatchObject({
        messages: [{ role: 'developer' }, { role: 'user' }],
        stop: ['END'],
        max_completion_tokens: 64,
        stream: false,
      });
      expect(received.body).not.toHaveProperty('max_tokens');
      expect(received.body).not.toHaveProperty('n');
      expect(received.body).not.toHaveProperty('stream_options');
    });

    it('asks mlx-openai-server for tool_choice "auto" when tools come without a choice', async () => {
      const tools: ChatRequest['tools'] = [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ];
      const received = recordChat('upstream-chat-tool-calls.json');
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      await provider.doChat({ ...request, tools }, callOptions());
      expect(received.body?.tool_choice).toBe('auto');
      await provider.doChat({ ...request, tools, tool_choice: 'required' }, callOptions());
      expect(received.body?.tool_choice).toBe('required');
      const openai = createOpenAICompatible({ id: 'openai', baseURL: BASE_URL, flavor: 'openai' });
      await openai.doChat({ ...request, tools }, callOptions());
      expect(received.body).not.toHaveProperty('tool_choice');
    });

    it('keeps n when it is not 1', async () => {
      const received = recordChat('upstream-chat.json');
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      await provider.doChat({ ...request, n: 2 }, callOptions());
      expect(received.body?.n).toBe(2);
    });
  });

  describe('cancellation', () => {
    it('destroys the upstream request when the signal aborts', async () => {
      let upstreamAborted: Promise<void> | undefined;
      server.use(
        http.post(`${BASE_URL}/chat/completions`, async ({ request: upstreamRequest }) => {
          upstreamAborted = aborted(upstreamSignal(upstreamRequest));
          await upstreamAborted;
          return HttpResponse.json({}, { status: 500 });
        }),
      );
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      const controller = new AbortController();
      const call = provider.doChat(request, callOptions({ signal: controller.signal }));
      await expect.poll(() => upstreamAborted !== undefined).toBe(true);
      controller.abort();
      await expect(call).rejects.toBeInstanceOf(AbortedError);
      await upstreamAborted;
    });

    it('fails without a request when the signal is already aborted', async () => {
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      const controller = new AbortController();
      controller.abort();
      await expect(
        provider.doChat(request, callOptions({ signal: controller.signal })),
      ).rejects.toBeInstanceOf(AbortedError);
    });

    it('times out after timeoutMs, and sooner at the call deadline', async () => {
      server.use(http.post(`${BASE_URL}/chat/completions`, () => new Promise<never>(() => {})));
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL, timeoutMs: 50 });
      await expect(provider.doChat(request, callOptions())).rejects.toBeInstanceOf(TimeoutError);
      const slow = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      await expect(slow.doChat(request, callOptions({ deadline: Date.now() + 50 }))).rejects.toMatchObject({
        code: 'timeout',
        status: 504,
        isRetryable: true,
      });
    });
  });
});
