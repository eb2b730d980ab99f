import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import { ChunkEventWriter } from './chunk-event.js';

function chunk(
  overrides: Partial<ChatChunk> = {},
  delta: Record<string, unknown> = { content: 'hi' },
): ChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_733_000_000,
    model: 'lab/qwen',
    choices: [{ index: 0, delta, finish_reason: null }],
    ...overrides,
  };
}

const variants: ChatChunk[] = [
  chunk(),
  chunk({ usage: null }),
  chunk({}, { role: 'assistant', content: '' }),
  chunk({}, { content: 'quote " backslash \\ newline \n emoji 🇫🇷 \u2028 \u0000' }),
  chunk({}, { reasoning_content: 'thinking…' }),
  chunk({}, { content: undefined, role: 'assistant' }),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }], usage: null }),
  chunk({}, { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] }),
  chunk({ citations: [{ id: 1 }] }),
  chunk({ usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
  chunk({ choices: [] }),
  chunk({ system_fingerprint: 'fp' }),
  chunk({ id: 'other', model: 'mlx/tiny' }),
  chunk({}, { content: null }),
  chunk({ choices: [{ index: 0, delta: { content: 'no finish field' } } as never] }),
  chunk({ choices: [{ index: 0, finish_reason: null } as never] }),
  chunk({ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: undefined } as never] }),
];

describe('ChunkEventWriter', () => {
  it('writes the same JSON as JSON.stringify, for every shape', () => {
    const writer = new ChunkEventWriter();
    for (const variant of [...variants, ...variants]) {
      const event = writer.event(variant);
      expect(event.startsWith('data: ')).toBe(true);
      expect(event.endsWith('\n\n')).toBe(true);
      expect(JSON.parse(event.slice(6))).toEqual(JSON.parse(JSON.stringify(variant)));
    }
  });

  it('follows a change of identity within a stream', () => {
    const writer = new ChunkEventWriter();
    writer.event(chunk());
    const event = writer.event(chunk({ id: 'chatcmpl-2', created: 5, model: 'fusion/moa' }));
    expect(JSON.parse(event.slice(6))).toMatchObject({ id: 'chatcmpl-2', created: 5, model: 'fusion/moa' });
  });
});
