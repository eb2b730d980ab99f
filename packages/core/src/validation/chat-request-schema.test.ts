import { describe, expect, it } from 'vitest';
import type { FusionError } from '../errors/fusion-error.js';
import { chatRequestSchema, parseChatRequest, plainChatRequest } from './chat-request-schema.js';

const messages = [{ role: 'user', content: 'Hi' }];

function failure(input: unknown): FusionError {
  try {
    parseChatRequest(input);
  } catch (error) {
    return error as FusionError;
  }
  throw new Error('expected parseChatRequest to throw');
}

describe('parseChatRequest', () => {
  it('accepts a minimal request and every message role', () => {
    const request = parseChatRequest({
      model: 'lab/qwen',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use JSON.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
            { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      ],
    });
    expect(request.messages).toHaveLength(5);
    expect(request.model).toBe('lab/qwen');
  });

  it('names the param of a schema violation like messages[0].role', () => {
    expect(failure({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] })).toMatchObject({
      status: 400,
      code: 'invalid_request',
      type: 'invalid_request_error',
      param: 'messages[0].role',
    });
    expect(failure({ model: 'm', messages: [...messages, { role: 'user', content: 5 }] }).param).toBe(
      'messages[1].content',
    );
    expect(
      failure({ model: 'm', messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }).param,
    ).toMatch(/^messages\[0\]\.content/);
    expect(failure({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }).param).toBe(
      'messages[0].tool_call_id',
    );
    expect(failure({ messages }).param).toBe('model');
    expect(failure({ model: 'm', messages: [] }).param).toBe('messages');
    expect(failure({ model: 'm', messages, temperature: 3 }).param).toBe('temperature');
    expect(failure({ model: 'm', messages, max_tokens: 1.5 }).param).toBe('max_tokens');
    expect(failure({ model: 'm', messages, stream: 'yes' }).param).toBe('stream');
    expect(
      failure({ model: 'm', messages, tools: [{ type: 'function', function: { name: 'bad name!' } }] }).param,
    ).toBe('tools[0].function.name');
    const message = failure({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }).message;
    expect(message).toContain('messages[0].role');
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'text', 42, true, undefined]) {
      expect(failure(body)).toMatchObject({ status: 400, code: 'invalid_request' });
    }
  });

  it('refuses n other than 1 with 400 unsupported naming n', () => {
    expect(failure({ model: 'm', messages, n: 2 })).toMatchObject({
      status: 400,
      code: 'unsupported',
      param: 'n',
    });
    expect(failure({ model: 'm', messages, n: 0 })).toMatchObject({ status: 400, param: 'n' });
    expect(parseChatRequest({ model: 'm', messages, n: 1 }).n).toBe(1);
    expect(parseChatRequest({ model: 'm', messages, n: null }).n).toBeUndefined();
  });

  it('makes stop an array', () => {
    expect(parseChatRequest({ model: 'm', messages, stop: '\n\n' }).stop).toEqual(['\n\n']);
    expect(parseChatRequest({ model: 'm', messages, stop: ['a', 'b'] }).stop).toEqual(['a', 'b']);
    expect(failure({ model: 'm', messages, stop: [1] }).param).toBe('stop');
  });

  it('copies max_completion_tokens into max_tokens', () => {
    expect(parseChatRequest({ model: 'm', messages, max_completion_tokens: 64 })).toMatchObject({
      max_tokens: 64,
      max_completion_tokens: 64,
    });
    expect(
      parseChatRequest({ model: 'm', messages, max_tokens: 10, max_completion_tokens: 64 }).max_tokens,
    ).toBe(64);
    expect(parseChatRequest({ model: 'm', messages, max_tokens: 10 }).max_tokens).toBe(10);
  });

  it('drops null fields and keeps unknown ones', () => {
    const request = parseChatRequest({
      model: 'm',
      messages,
      temperature: null,
      tools: null,
      stream_options: null,
      chat_template_kwargs: { enable_thinking: true },
      x_vendor_flag: { deep: [1, 2] },
    });
    expect('temperature' in request).toBe(false);
    expect('tools' in request).toBe(false);
    expect('stream_options' in request).toBe(false);
    expect(request.x_vendor_flag).toEqual({ deep: [1, 2] });
    expect(request.chat_template_kwargs).toEqual({ enable_thinking: true });
  });

  it('does not change the caller’s object', () => {
    const input = { model: 'm', messages, stop: 'x', max_completion_tokens: 5, temperature: null };
    parseChatRequest(input);
    expect(input).toEqual({ model: 'm', messages, stop: 'x', max_completion_tokens: 5, temperature: null });
  });

  it('refuses tool_choice without tools, except none', () => {
    expect(failure({ model: 'm', messages, tool_choice: 'auto' })).toMatchObject({
      status: 400,
      param: 'tool_choice',
    });
    expect(failure({ model: 'm', messages, tool_choice: 'required', tools: [] })).toMatchObject({
      param: 'tool_choice',
    });
    expect(
      failure({ model: 'm', messages, tool_choice: { type: 'function', function: { name: 'look' } } }).param,
    ).toBe('tool_choice');
    expect(parseChatRequest({ model: 'm', messages, tool_choice: 'none' }).tool_choice).toBe('none');
    const tools = [{ type: 'function', function: { name: 'look', parameters: { type: 'object' } } }];
    expect(parseChatRequest({ model: 'm', messages, tools, tool_choice: 'required' }).tools).toHaveLength(1);
  });

  it('validates response_format', () => {
    expect(
      parseChatRequest({ model: 'm', messages, response_format: { type: 'json_object' } }).response_format,
    ).toEqual({
      type: 'json_object',
    });
    expect(failure({ model: 'm', messages, response_format: { type: 'json_schema' } }).param).toBe(
      'response_format.json_schema',
    );
    expect(failure({ model: 'm', messages, response_format: { type: 'yaml' } }).param).toMatch(
      /^response_format/,
    );
  });
});

describe('parseChatRequest, plain requests', () => {
  // The hand-checked path for plain requests must answer exactly what the schema answers.
  const base = { model: 'lab/qwen', messages: [{ role: 'user', content: 'Hi' }] };
  const variants: Record<string, unknown>[] = [
    base,
    { ...base, stream: true, stream_options: { include_usage: true }, temperature: 0.2, max_tokens: 256 },
    {
      ...base,
      top_p: 1,
      top_k: -1,
      min_p: 0,
      seed: 7,
      stop: 'x',
      user: 'u',
      n: 1,
      parallel_tool_calls: null,
    },
    {
      ...base,
      frequency_penalty: -2,
      presence_penalty: 2,
      repetition_penalty: 1.1,
      max_completion_tokens: 9,
    },
    { ...base, temperature: null, stop: ['a', 'b'], custom_field: { kept: true }, metadata: null },
    {
      ...base,
      messages: [
        { role: 'system', content: 's', name: 'n' },
        { role: 'developer', content: '' },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'u' },
      ],
    },
    JSON.parse(
      '{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":true},"constructor":1}',
    ),
    // Invalid or not plain: the schema decides (the same error as before).
    { ...base, temperature: 3 },
    { ...base, temperature: Number.POSITIVE_INFINITY },
    { ...base, max_tokens: 0 },
    { ...base, max_tokens: 1.5 },
    { ...base, top_k: -2 },
    { ...base, stop: Array.from({ length: 17 }, () => 'x') },
    { ...base, stream: 'yes' },
    { ...base, stream_options: { include_usage: 'yes' } },
    { ...base, stream_options: { other: 1 } },
    { ...base, model: '' },
    { ...base, messages: [] },
    { ...base, messages: [{ role: 'user', content: 1 }] },
    { ...base, messages: [{ role: 'robot', content: 'x' }] },
    { ...base, messages: [{ role: 'user', content: 'x', name: 3 }] },
    { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: 'c' }] },
    { ...base, messages: [{ role: 'assistant', content: null }] },
    { ...base, messages: [null] },
    { ...base, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'auto' },
    { ...base, response_format: { type: 'json_object' } },
    { ...base, logit_bias: { '1': 2 } },
  ];

  it.each(variants.map((variant, index) => [index, variant]))(
    'variant %i answers as the schema does',
    (_index, variant) => {
      const expected = (() => {
        const parsed = chatRequestSchema.safeParse(variant);
        return parsed.success ? parsed.data : undefined;
      })();
      let actual: unknown;
      let error: unknown;
      try {
        actual = parseChatRequest(structuredClone(variant));
      } catch (caught) {
        error = caught;
      }
      if (expected === undefined) {
        expect(error).toBeDefined();
        expect((error as FusionError).status).toBe(400);
        return;
      }
      if (error !== undefined) {
        // Valid to the schema but refused by the normalisation after it (n, tool_choice): same for both.
        expect((error as FusionError).status).toBeGreaterThanOrEqual(400);
        return;
      }
      const normalised = Object.fromEntries(Object.entries(expected).filter(([, value]) => value !== null));
      if (typeof normalised.stop === 'string') normalised.stop = [normalised.stop];
      if (normalised.max_completion_tokens !== undefined)
        normalised.max_tokens = normalised.max_completion_tokens;
      expect(actual).toEqual(normalised);
    },
  );

  it('takes the hand-checked path for the plain ones', () => {
    for (const variant of variants.slice(0, 6)) expect(plainChatRequest(variant)).toBeDefined();
    for (const variant of variants.slice(6)) expect(plainChatRequest(variant)).toBeUndefined();
  });

  it("does not change the caller's objects", () => {
    const input = { model: 'm', messages: [{ role: 'user', content: 'x' }], stop: 'a', metadata: null };
    const copy = structuredClone(input);
    const parsed = parseChatRequest(input);
    expect(input).toEqual(copy);
    expect(parsed.messages[0]).not.toBe(input.messages[0]);
  });
});
