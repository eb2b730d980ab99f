import { describe, expect, it } from 'vitest';
import { collect, fakeContext, upstreamFailure } from './__fixtures__/fake-context.js';
import { raceStrategy } from './race-strategy.js';

describe('raceStrategy', () => {
  it('hedges after the delay, takes the first answer and aborts the loser at once', async () => {
    const { context, aborted, trace } = fakeContext({
      targets: { 'lab/slow': { delayMs: 10_000 }, 'lab/fast': { reply: 'fast', delayMs: 1 } },
      options: { hedgeDelayMs: 10 },
    });
    const events: { type: string; target?: string }[] = [];
    context.emit = (event) => events.push(event);
    const started = Date.now();
    const result = await raceStrategy().doChat(context);
    expect(events).toMatchObject([{ type: 'hedge', target: 'lab/fast' }]);
    expect(result.choices[0]!.message.content).toBe('fast');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(aborted).toEqual(['lab/slow']);
    // The loser's call ends (aborted) after the winner's.
    expect(trace.calls.map((call) => [call.target, call.role, call.outcome])).toEqual([
      ['lab/fast', 'hedge', 'ok'],
      ['lab/slow', 'primary', 'aborted'],
    ]);
    expect(trace.decision).toMatchObject({
      winner: 'lab/fast',
      hedges: [{ target: 'lab/fast', reason: 'delay' }],
    });
  });

  it('does not hedge a target that answers in time', async () => {
    const { context, calls } = fakeContext({
      targets: { 'lab/a': {}, 'lab/b': {} },
      options: { hedgeDelayMs: 50 },
    });
    await raceStrategy().doChat(context);
    expect(calls.map((call) => call.target)).toEqual(['lab/a']);
    expect(context.trace.decision).toMatchObject({ hedges: [], winner: 'lab/a' });
  });

  it('starts the next target at once when one fails, and throws the last error when all fail', async () => {
    const { context, trace } = fakeContext({
      targets: { 'lab/a': { error: upstreamFailure() }, 'lab/b': {} },
      options: { hedgeDelayMs: 60_000 },
    });
    await raceStrategy().doChat(context);
    expect(trace.decision).toMatchObject({ winner: 'lab/b', hedges: [{ target: 'lab/b', reason: 'error' }] });
    const last = upstreamFailure('last');
    const failing = fakeContext({
      targets: { 'lab/a': { error: upstreamFailure() }, 'lab/b': { error: last } },
    });
    await expect(raceStrategy().doChat(failing.context)).rejects.toBe(last);
  });

  it('hedges after the observed p95 of the target once it has enough observations', async () => {
    const strategy = raceStrategy({ minSamples: 3, initialDelayMs: 60_000 });
    const scripts = {
      'lab/a': [{ delayMs: 2 }, { delayMs: 2 }, { delayMs: 2 }, { delayMs: 60_000 }],
      'lab/b': {},
    };
    const { context } = fakeContext({ targets: scripts });
    for (let round = 0; round < 3; round++) {
      await strategy.doChat({ ...context, trace: { ...context.trace, calls: [] } });
    }
    context.trace.calls.length = 0;
    const started = Date.now();
    await strategy.doChat(context);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(context.trace.decision).toMatchObject({
      winner: 'lab/b',
      hedges: [{ target: 'lab/b', reason: 'delay' }],
    });
  });

  it('streams the first target to produce a token and aborts the others', async () => {
    const { context, aborted, calls } = fakeContext({
      targets: {
        'lab/slow': { reply: 'slow answer', delayMs: 10_000 },
        'lab/fast': { reply: 'fast answer' },
      },
      options: { hedgeDelayMs: 5 },
    });
    const { text, chunks } = await collect(raceStrategy().doStream!(context));
    expect(text).toBe('fast answer');
    expect(aborted).toEqual(['lab/slow']);
    expect(calls.every((call) => call.kind === 'stream')).toBe(true);
    expect(chunks.at(-1)!.usage).toEqual(context.trace.usage);
  });

  it('rejects with the abort reason when the request aborts, aborting every call', async () => {
    const request = new AbortController();
    const { context, aborted } = fakeContext({
      targets: { 'lab/a': { hang: true }, 'lab/b': { hang: true } },
      options: { hedgeDelayMs: 1 },
      signal: request.signal,
    });
    const answer = raceStrategy().doChat(context);
    setTimeout(() => request.abort(), 20);
    await expect(answer).rejects.toMatchObject({ code: 'aborted' });
    expect(aborted.sort()).toEqual(['lab/a', 'lab/b']);
  });

  it('refuses bad inline options with a 400', async () => {
    const { context } = fakeContext({
      targets: { 'lab/a': {} },
      options: { hedgeDelayMs: 'soon' as unknown as number },
    });
    await expect(raceStrategy().doChat(context)).rejects.toMatchObject({
      status: 400,
      param: 'options.hedgeDelayMs',
    });
  });
});

describe('raceStrategy, close finishes', () => {
  it('closes a loser that reaches its first token just after the winner', async () => {
    const { context, calls, trace } = fakeContext({
      targets: { 'lab/a': { reply: 'a', delayMs: 5 }, 'lab/b': { reply: 'b', delayMs: 5 } },
      options: { hedgeDelayMs: 0 },
    });
    const { text } = await collect(raceStrategy().doStream!(context));
    expect(['a', 'b']).toContain(text);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toHaveLength(2);
    // Every started stream ended (the fake records a call when its stream closes).
    expect(trace.calls).toHaveLength(2);
  });
});
