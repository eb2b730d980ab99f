import { describe, expect, it } from 'vitest';
import { estimatePromptTokens, hasImageParts, lastUserText } from './estimate-tokens.js';

describe('estimatePromptTokens', () => {
  it('counts message text and tool call arguments at 4 characters a token', () => {
    expect(
      estimatePromptTokens({
        model: 'm',
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'abcd' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'abcd' },
              { type: 'image_url', image_url: { url: 'data:,' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          { role: 'tool', content: 'x', tool_call_id: 'c' },
        ],
      }),
    ).toBe(Math.ceil((4 + 4 + 7 + 1) / 4));
  });

  it('finds image parts and the last user text', () => {
    const request = {
      model: 'm',
      messages: [
        { role: 'user' as const, content: 'first' },
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'a' },
            { type: 'image_url' as const, image_url: { url: 'u' } },
            { type: 'text' as const, text: 'b' },
          ],
        },
        { role: 'assistant' as const, content: 'reply' },
      ],
    };
    expect(hasImageParts(request)).toBe(true);
    expect(lastUserText(request)).toBe('a b');
    expect(lastUserText({ model: 'm', messages: [] })).toBe('');
    expect(hasImageParts({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).toBe(false);
  });
});
