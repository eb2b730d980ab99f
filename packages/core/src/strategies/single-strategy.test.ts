import { describe, expect, it } from 'vitest';
import { collect, fakeContext } from './__fixtures__/fake-context.js';
import { singleStrategy } from './single-strategy.js';

describe('singleStrategy', () => {
  it('answers from the first target only', async () => {
    const { context, calls } = fakeContext({ targets: { 'lab/a': { reply: 'one two' }, 'lab/b': {} } });
    const result = await singleStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('one two');
    expect(result.usage).toEqual({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
    expect(calls.map((call) => [call.target, call.role])).toEqual([['lab/a', 'answer']]);
  });

  it('passes the stream through untouched and fills the trace usage at its end', async () => {
    const { context, trace } = fakeContext({ targets: { 'lab/a': { reply: 'one two' } } });
    const { chunks, text } = await collect(singleStrategy().doStream!(context));
    expect(text).toBe('one two');
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason ?? (chunk.usage ? 'usage' : null))).toEqual([
      null,
      null,
      null,
      'stop',
      'usage',
    ]);
    expect(trace.usage).toEqual({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
  });
});
