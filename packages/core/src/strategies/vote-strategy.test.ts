import { describe, expect, it } from 'vitest';
import { collect, fakeContext, upstreamFailure } from './__fixtures__/fake-context.js';
import { normalizeAnswer } from './tally-votes.js';
import { voteStrategy } from './vote-strategy.js';

describe('voteStrategy', () => {
  it('takes the majority over normalised answers and returns the full text of a winning sample', async () => {
    const { context, calls, trace, aborted } = fakeContext({
      targets: {
        'lab/a': [{ reply: 'Paris.' }, { reply: 'Lyon' }, { reply: 'paris' }],
        'lab/b': [{ reply: '  PARIS!' }, { reply: 'Marseille' }],
      },
      options: { samples: 5, earlyStop: false },
    });
    const events: unknown[] = [];
    context.emit = (event) => events.push(event);
    const result = await voteStrategy().doChat(context);
    expect(events).toEqual([{ type: 'tally', tally: { paris: 3, lyon: 1, marseille: 1 }, winner: 'paris' }]);
    expect(calls.map((call) => call.target)).toEqual(['lab/a', 'lab/b', 'lab/a', 'lab/b', 'lab/a']);
    expect(result.choices[0]!.message.content).toBe('Paris.');
    expect(aborted).toEqual([]);
    expect(trace.decision).toMatchObject({
      answered: 5,
      tally: [
        { answer: 'paris', votes: 3, samples: [0, 1, 4] },
        { answer: 'lyon', votes: 1 },
        { answer: 'marseille', votes: 1 },
      ],
      winner: { sample: 0, target: 'lab/a', answer: 'paris' },
    });
    expect(result.usage!.total_tokens).toBe(
      trace.calls.reduce((sum, call) => sum + call.usage!.total_tokens, 0),
    );
    expect(trace.calls.every((call) => call.output !== undefined && call.role === 'sample')).toBe(true);
  });

  it('breaks ties by earliest target, then earliest sample, whatever the arrival order', async () => {
    // Samples: 0→a "x" (slow), 1→b "y", 2→a "y" (slow), 3→b "x". Tie 2-2; "x" has sample 0 on target a.
    const { context, trace } = fakeContext({
      targets: {
        'lab/a': [
          { reply: 'x', delayMs: 20 },
          { reply: 'y', delayMs: 10 },
        ],
        'lab/b': [{ reply: 'y' }, { reply: 'x' }],
      },
      options: { samples: 4 },
    });
    const result = await voteStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('x');
    expect(trace.decision).toMatchObject({
      winner: { sample: 0 },
      tally: [{ answer: 'x' }, { answer: 'y' }],
    });
  });

  it('leaves failed samples out and uses an extractor', async () => {
    const { context, trace } = fakeContext({
      targets: {
        'lab/a': [{ reply: 'so the answer is 42' }, { error: upstreamFailure() }, { reply: 'I think 41' }],
        'lab/b': [{ reply: 'it must be 42.' }, { reply: 'no idea' }],
      },
    });
    const extractor = (text: string) => text.match(/\d+/)?.[0];
    const result = await voteStrategy({ samples: 5, extractor, earlyStop: false }).doChat(context);
    expect(result.choices[0]!.message.content).toBe('so the answer is 42');
    expect(trace.decision).toMatchObject({
      answered: 4,
      failed: 1,
      tally: [
        { answer: '42', votes: 2 },
        { answer: '41', votes: 1 },
      ],
    });
    expect(trace.partial).toBeUndefined();
  });

  it('answers by the deadline with what arrived, marked partial, aborting the hung sample', async () => {
    const { context, aborted, trace } = fakeContext({
      // 1–1 with one sample hung: only the hung one could decide, so the vote waits for the deadline.
      targets: { 'lab/a': [{ reply: 'yes' }, { hang: true }], 'lab/b': { reply: 'no' } },
      options: { samples: 3 },
      deadline: Date.now() + 100,
    });
    const started = Date.now();
    const result = await voteStrategy().doChat(context);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.choices[0]!.message.content).toBe('yes');
    expect(trace.partial).toBe(true);
    expect(aborted).toEqual(['lab/a']);
    expect(trace.decision).toMatchObject({ answered: 2, cut: 1 });
  });

  it('stops early once the outcome cannot change, aborting the rest', async () => {
    const { context, aborted, trace } = fakeContext({
      targets: {
        'lab/a': [{ reply: 'A' }, { reply: 'A' }, { hang: true }],
        'lab/b': [{ reply: 'a' }, { hang: true }],
      },
      options: { samples: 5 },
    });
    const result = await voteStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('A');
    expect(aborted.sort()).toEqual(['lab/a', 'lab/b']);
    expect(trace.decision).toMatchObject({ stoppedEarly: true, answered: 3 });
    expect(trace.partial).toBeUndefined();
  });

  it('throws the first error when no sample answers, and streams the winner', async () => {
    const failure = upstreamFailure('all down');
    const failing = fakeContext({ targets: { 'lab/a': { error: failure } }, options: { samples: 2 } });
    await expect(voteStrategy().doChat(failing.context)).rejects.toBe(failure);
    const { context } = fakeContext({
      targets: { 'lab/a': { reply: 'streamed winner' } },
      options: { samples: 3 },
    });
    const { text, chunks } = await collect(voteStrategy().doStream!(context));
    expect(text).toBe('streamed winner');
    expect(chunks.at(-1)!.usage!.total_tokens).toBeGreaterThan(0);
  });

  it('refuses bad inline options with a 400', async () => {
    const { context } = fakeContext({ targets: { 'lab/a': {} }, options: { samples: 0 } });
    await expect(voteStrategy().doChat(context)).rejects.toMatchObject({
      status: 400,
      param: 'options.samples',
    });
  });
});

describe('normalizeAnswer', () => {
  it('trims, lowercases, collapses whitespace and strips trailing punctuation', () => {
    expect(normalizeAnswer('  The   Answer\nis 42!?. ')).toBe('the answer is 42');
    expect(normalizeAnswer('3.14')).toBe('3.14');
  });
});
