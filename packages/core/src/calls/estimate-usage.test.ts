import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { estimatePromptTokens, estimateResultUsage, StreamUsageCounter } from './estimate-usage.js';

const request: ChatRequest = {
  model: 'm',
  messages: [
    { role: 'system', content: 'x'.repeat(40) },
    { role: 'user', content: [{ type: 'text', text: 'y'.repeat(40) }] },
  ],
};

describe('usage estimates', () => {
  it('counts the prompt from its text, per message overhead and tools', () => {
    // 80 characters ≈ 20 tokens, 3 per message, 3 to prime the reply.
    expect(estimatePromptTokens(request)).toBe(20 + 6 + 3);
    const withTools: ChatRequest = {
      ...request,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    };
    expect(estimatePromptTokens(withTools)).toBeGreaterThan(estimatePromptTokens(request));
  });

  it('counts a stream at least one token per content chunk', () => {
    const counter = new StreamUsageCounter();
    const chunk = (content: string) => ({
      id: 'c',
      object: 'chat.completion.chunk' as const,
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    });
    for (let index = 0; index < 10; index++) counter.count(chunk('a'));
    counter.count(chunk(''));
    expect(counter.usage(request).completion_tokens).toBe(10);
    counter.count(chunk('z'.repeat(400)));
    expect(counter.usage(request)).toEqual({ prompt_tokens: 29, completion_tokens: 103, total_tokens: 132 });
  });

  it('counts a result from its text and tool calls', () => {
    const usage = estimateResultUsage(request, {
      id: 'r',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: 'a'.repeat(8),
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'abcd', arguments: '{"q":"1234"}' } },
            ],
          },
        },
      ],
    });
    expect(usage).toEqual({ prompt_tokens: 29, completion_tokens: 6, total_tokens: 35 });
  });
});
