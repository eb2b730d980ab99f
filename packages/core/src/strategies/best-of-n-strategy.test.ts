import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { collect, fakeContext, upstreamFailure } from './__fixtures__/fake-context.js';
import { bestOfNStrategy } from './best-of-n-strategy.js';

const judgeSaw = (request: ChatRequest) => request.messages.map((message) => message.content).join('\n');

describe('bestOfNStrategy', () => {
  it('asks the judge with numbered candidates and returns the one it names', async () => {
    let prompt = '';
    const { context, trace, calls } = fakeContext({
      targets: {
        'lab/a': [{ reply: 'short' }, { reply: 'a thorough answer' }],
        'lab/b': { reply: 'medium answer' },
        'lab/judge': {
          reply: (request) => {
            prompt = judgeSaw(request);
            return 'Sure! ```json\n{"best": 2, "reason": "most thorough"}\n```';
          },
        },
      },
      order: ['lab/a', 'lab/b'],
      options: { candidates: 3, judge: 'lab/judge' },
    });
    const result = await bestOfNStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('a thorough answer');
    // Numbered in target order: a's two samples, then b's.
    expect(prompt).toContain('Candidate 1:\n<<<\nshort\n>>>');
    expect(prompt).toContain('Candidate 2:\n<<<\na thorough answer\n>>>');
    expect(prompt).toContain('Candidate 3:\n<<<\nmedium answer\n>>>');
    expect(prompt).toContain('"best"');
    expect(calls.at(-1)).toMatchObject({ target: 'lab/judge', role: 'judge' });
    expect(trace.decision).toMatchObject({
      judge: { target: 'lab/judge', best: 2, reason: 'most thorough' },
      chosen: { sample: 2 },
    });
    expect(result.usage!.total_tokens).toBe(
      trace.calls.reduce((sum, call) => sum + call.usage!.total_tokens, 0),
    );
  });

  it('falls back to the first candidate when the judge answers garbage, or the longest when asked', async () => {
    const setup = (options: Record<string, unknown>) =>
      fakeContext({
        targets: {
          'lab/a': [{ reply: 'first' }, { reply: 'the longest one' }],
          'lab/judge': { reply: 'I cannot decide, sorry.' },
        },
        order: ['lab/a'],
        options: { candidates: 2, judge: 'lab/judge', ...options },
      });
    const first = setup({});
    expect((await bestOfNStrategy().doChat(first.context)).choices[0]!.message.content).toBe('first');
    expect(first.trace.decision).toMatchObject({ judge: { unusable: true }, fallback: 'first' });
    const longest = setup({ fallback: 'longest' });
    expect((await bestOfNStrategy().doChat(longest.context)).choices[0]!.message.content).toBe(
      'the longest one',
    );
  });

  it('falls back when the judge fails, and skips the judge for a single answer', async () => {
    const failing = fakeContext({
      targets: { 'lab/a': [{ reply: 'one' }, { reply: 'two' }], 'lab/judge': { error: upstreamFailure() } },
      order: ['lab/a'],
      options: { candidates: 2, judge: 'lab/judge' },
    });
    expect((await bestOfNStrategy().doChat(failing.context)).choices[0]!.message.content).toBe('one');
    expect(failing.trace.decision).toMatchObject({ judge: { error: 'upstream_error' }, fallback: 'first' });
    const lone = fakeContext({
      targets: { 'lab/a': [{ reply: 'only' }, { error: upstreamFailure() }] },
      options: { candidates: 2 },
    });
    expect((await bestOfNStrategy().doChat(lone.context)).choices[0]!.message.content).toBe('only');
    expect(lone.calls.filter((call) => call.role === 'judge')).toHaveLength(0);
  });

  it('judges with what arrived by its share of the deadline, marked partial', async () => {
    const { context, aborted, trace } = fakeContext({
      targets: {
        'lab/a': [{ reply: 'one' }, { hang: true }, { reply: 'Candidate 1' }],
        'lab/b': { reply: 'two' },
      },
      order: ['lab/a', 'lab/b'],
      options: { candidates: 3 },
      deadline: Date.now() + 80,
    });
    const { text } = await collect(bestOfNStrategy().doStream!(context));
    expect(text).toBe('one');
    expect(trace.partial).toBe(true);
    expect(aborted).toEqual(['lab/a']);
    expect(trace.decision).toMatchObject({ cut: 1, judge: { best: 1 } });
  });
});
