import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createScriptedProvider } from '../../__fixtures__/scripted-provider.js';
import { createFusion, type Fusion } from '../../fusion/fusion.js';
import type { CallOptions } from '../../spec/call-options.js';
import type { ChatChunk } from '../../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../../spec/chat/chat-request.js';
import type { ChatResult } from '../../spec/chat/chat-result.js';
import type { ProviderV1 } from '../../spec/provider/v1/provider-v1.js';

const USAGE = { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 };
const TOOL = {
  name: 'get_weather',
  description: 'Current weather of a city.',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A provider that thinks, answers in words, or calls `get_weather` when given tools; it records requests. */
function toolProvider(): ProviderV1 & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  const chunk = (delta: ChatChunk['choices'][0]['delta'], finish: 'stop' | 'tool_calls' | null = null) =>
    ({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: finish }],
    }) as ChatChunk;
  return {
    specificationVersion: 'v1',
    id: 'tp',
    requests,
    async models() {
      return [{ id: 'm', capabilities: { chat: true, tools: true } }];
    },
    async doChat(request): Promise<ChatResult> {
      requests.push(request);
      const tools = Boolean(request.tools?.length);
      return {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: request.model,
        choices: [
          {
            index: 0,
            message: tools
              ? {
                  role: 'assistant',
                  content: 'Let me look.',
                  tool_calls: [
                    {
                      id: 'call_1',
                      type: 'function',
                      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                    },
                  ],
                }
              : { role: 'assistant', content: 'Hello there.', reasoning_content: 'Greet back.' },
            finish_reason: tools ? 'tool_calls' : 'stop',
          },
        ],
        usage: USAGE,
      };
    },
    async *doStream(request, _options: CallOptions): AsyncGenerator<ChatChunk> {
      requests.push(request);
      yield chunk({ role: 'assistant' });
      if (request.tools?.length) {
        yield chunk({ content: 'Let me' });
        yield chunk({ content: ' look.' });
        yield chunk({
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"ci' },
            },
          ],
        });
        yield chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] });
        yield { ...chunk({}, 'tool_calls'), usage: USAGE };
      } else {
        yield chunk({ reasoning_content: 'Greet back.' });
        yield chunk({ content: 'Hello' });
        yield chunk({ content: ' there.' });
        yield { ...chunk({}, 'stop'), usage: USAGE };
      }
    },
  };
}

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

async function start() {
  const provider = toolProvider();
  fusion = createFusion({
    healthIntervalMs: 0,
    providers: [provider],
    pipelines: [{ name: 'fusion/first', strategy: 'fallback', targets: ['tp/m'] }],
  });
  await fusion.ready;
  const served = fusion;
  const client = new Anthropic({
    baseURL: 'http://localhost',
    apiKey: 'unused',
    maxRetries: 0,
    fetch: (url: string | URL | Request, init?: RequestInit) => served.handle(new Request(url, init)),
  });
  return { fusion: served, provider, client };
}

function post(fusion: Fusion, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fusion.handle(
    new Request(`http://localhost${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

describe('POST /v1/messages', () => {
  for (const model of ['tp/m', 'fusion/first']) {
    it(`answers with text and thinking through ${model}`, async () => {
      const { client, provider } = await start();
      const message = await client.messages.create({
        model,
        max_tokens: 64,
        system: 'Be brief.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      });
      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model,
        content: [
          { type: 'thinking', thinking: 'Greet back.' },
          { type: 'text', text: 'Hello there.' },
        ],
        stop_reason: 'end_turn',
        usage: { input_tokens: 21, output_tokens: 7 },
      });
      expect(provider.requests[0]).toMatchObject({
        model: 'm',
        max_tokens: 64,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        ],
      });
    });

    it(`streams the same message as it answers, with a tool, through ${model}`, async () => {
      const { client } = await start();
      const request = {
        model,
        max_tokens: 64,
        tools: [TOOL],
        messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
      };
      const answer = await client.messages.create(request);
      const stream = client.messages.stream(request);
      const types: string[] = [];
      stream.on('streamEvent', (event) => types.push(event.type));
      const streamed = await stream.finalMessage();
      expect(answer.content).toEqual([
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      ]);
      expect(streamed.content).toEqual(answer.content);
      expect(streamed.stop_reason).toBe('tool_use');
      expect(streamed.usage).toMatchObject(answer.usage);
      expect(streamed.model).toBe(answer.model);
      expect(types).toEqual([
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
    });
  }

  it('streams thinking and text as the client parses them', async () => {
    const { client } = await start();
    const stream = client.messages.stream({
      model: 'tp/m',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();
    expect(text).toBe('Hello there.');
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Greet back.', signature: '' },
      { type: 'text', text: 'Hello there.' },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 21, output_tokens: 7 });
  });

  it('translates a tool round trip: tool_use and tool_result', async () => {
    const { client, provider } = await start();
    await client.messages.create({
      model: 'tp/m',
      max_tokens: 64,
      tools: [TOOL],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18°C' }] },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'no such city', is_error: true },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
    });
    expect(provider.requests[0]).toMatchObject({
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['END'],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: TOOL.input_schema } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: no such city' },
        { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
      ],
    });
  });

  it('accepts the hints Claude Code sends that a chat model has nothing to do with', async () => {
    const { fusion } = await start();
    const response = await post(fusion, '/v1/messages', {
      model: 'tp/m',
      max_tokens: 16,
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
      service_tier: 'auto',
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] },
      ],
    });
    expect(response.status).toBe(200);
  });

  it('answers bad input with a 400 in Anthropic’s error shape, naming the field', async () => {
    const { fusion, client } = await start();
    const cases: [unknown, RegExp][] = [
      [{ model: 'tp/m', messages: [{ role: 'user', content: 'Hi' }] }, /max_tokens/],
      [
        { model: 'tp/m', max_tokens: 5, messages: [{ role: 'system', content: 'Hi' }] },
        /messages\[0\]\.role/,
      ],
      [
        {
          model: 'tp/m',
          max_tokens: 5,
          messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }],
        },
        /messages\[0\]\.content\[0\]\.type.*'document'/,
      ],
      [
        { model: 'tp/m', max_tokens: 5, mcp_servers: [], messages: [{ role: 'user', content: 'Hi' }] },
        /'mcp_servers'/,
      ],
      [
        {
          model: 'tp/m',
          max_tokens: 5,
          tools: [{ type: 'web_search_20250305', name: 'web_search' }],
          messages: [{ role: 'user', content: 'Hi' }],
        },
        /tools\[0\]\.type/,
      ],
      ['{not json', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const response = await post(fusion, '/v1/messages', body);
      expect(response.status).toBe(400);
      const error = (await response.json()) as { type: string; error: { type: string; message: string } };
      expect(error.type).toBe('error');
      expect(error.error.type).toBe('invalid_request_error');
      expect(error.error.message).toMatch(message);
    }
    // The SDK reads it as its own error class.
    await expect(
      client.messages.create({
        model: 'nope/model',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('answers errors raised before the handler in Anthropic’s shape too', async () => {
    const { fusion } = await start();
    const wrongType = await fusion.handle(
      new Request('http://localhost/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      }),
    );
    expect(wrongType.status).toBe(415);
    expect(await wrongType.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const crossSite = await post(fusion, '/v1/messages', {}, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const wrongMethod = await fusion.handle(new Request('http://localhost/v1/messages'));
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    // Other routes keep OpenAI's shape.
    const chat = await post(fusion, '/v1/chat/completions', {});
    expect(await chat.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('takes the key from x-api-key or Authorization, as Anthropic clients send it', async () => {
    const provider = toolProvider();
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider], apiKeys: ['sk-test'] });
    const served = fusion;
    const body = { model: 'tp/m', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] };
    expect((await post(served, '/v1/messages', body, { 'x-api-key': 'sk-test' })).status).toBe(200);
    expect((await post(served, '/v1/messages', body, { authorization: 'Bearer sk-test' })).status).toBe(200);
    const refused = await post(served, '/v1/messages', body, { 'x-api-key': 'wrong' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});

describe('POST /v1/messages/count_tokens', () => {
  it('counts the tokens of a request with the SDK', async () => {
    const { client } = await start();
    const counted = await client.messages.countTokens({
      model: 'fusion/first',
      system: 'Be brief.',
      tools: [TOOL],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(10);
    const bigger = await client.messages.countTokens({
      model: 'tp/m',
      system: 'Be brief.',
      tools: [TOOL],
      messages: [{ role: 'user', content: 'Weather in Paris? '.repeat(50) }],
    });
    expect(bigger.input_tokens).toBeGreaterThan(counted.input_tokens + 100);
  });

  it('answers an unknown model with 404 in Anthropic’s shape', async () => {
    const { fusion } = await start();
    const response = await post(fusion, '/v1/messages/count_tokens', {
      model: 'nope/model',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('/v1/messages streams and limits', () => {
  const hi = { model: 'script/model', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] };

  it('ends a stream that fails after its start with an error event the SDK raises', async () => {
    const provider = createScriptedProvider({
      stream: [{ content: 'Hello' }, { throw: new Error('fell over') }],
    });
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    const served = fusion;
    const response = await post(served, '/v1/messages', { ...hi, stream: true });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('event: content_block_delta');
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    expect(text).not.toContain('message_stop');
    const client = new Anthropic({
      baseURL: 'http://localhost',
      apiKey: 'unused',
      maxRetries: 0,
      fetch: (url: string | URL | Request, init?: RequestInit) => served.handle(new Request(url, init)),
    });
    await expect(
      client.messages.stream({ ...hi, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage(),
    ).rejects.toThrow();
  });

  it('stops the upstream when the client cancels the stream', async () => {
    const provider = createScriptedProvider({ stream: [{ content: 'Hello' }, { hang: true }] });
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    const response = await post(fusion, '/v1/messages', { ...hi, stream: true });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await vi.waitFor(() => expect(provider.aborted).toHaveLength(1));
    await vi.waitFor(() => expect(fusion!.inFlight).toBe(0));
  });

  it('answers a full queue with 429 in Anthropic’s shape', async () => {
    const provider = createScriptedProvider({ chat: 'hang' });
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [provider],
      queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 },
    });
    const controller = new AbortController();
    const holding = fusion
      .handle(
        new Request('http://localhost/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(hi),
          signal: controller.signal,
        }),
      )
      .catch(() => undefined);
    await vi.waitFor(() => expect(provider.calls).toHaveLength(1));
    const refused = await post(fusion, '/v1/messages', hi);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    controller.abort();
    await holding;
  });
});
