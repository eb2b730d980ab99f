import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { collect, fakeContext, upstreamFailure } from './__fixtures__/fake-context.js';
import { CONTINUE_INSTRUCTION } from './continuation.js';
import { fallbackStrategy } from './fallback-strategy.js';

describe('fallbackStrategy', () => {
  it('walks the targets until one answers, and sums the usage of every call', async () => {
    const { context, trace } = fakeContext({
      targets: {
        'lab/a': { error: upstreamFailure() },
        'lab/b': { error: upstreamFailure() },
        'lab/c': { reply: 'ok' },
      },
    });
    const result = await fallbackStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('ok');
    expect(trace.calls.map((call) => [call.target, call.role, call.outcome])).toEqual([
      ['lab/a', 'primary', 'error'],
      ['lab/b', 'fallback', 'error'],
      ['lab/c', 'fallback', 'ok'],
    ]);
    expect(trace.decision).toMatchObject({
      answeredBy: 'lab/c',
      attempts: [{ target: 'lab/a', error: 'upstream_error' }, { target: 'lab/b' }],
    });
  });

  it('throws the last error when every target fails, and does not fall back on a bad request', async () => {
    const last = upstreamFailure('last');
    const failing = fakeContext({
      targets: { 'lab/a': { error: upstreamFailure() }, 'lab/b': { error: last } },
    });
    await expect(fallbackStrategy().doChat(failing.context)).rejects.toBe(last);
    const invalid = fakeContext({
      targets: { 'lab/a': { error: new InvalidRequestError('bad') }, 'lab/b': {} },
    });
    await expect(fallbackStrategy().doChat(invalid.context)).rejects.toThrow('bad');
    expect(invalid.calls).toHaveLength(1);
  });

  it('streams a clean answer from target 2 when target 1 fails before its first token', async () => {
    const { context, trace, aborted } = fakeContext({
      targets: { 'lab/a': { error: upstreamFailure(), delayMs: 5 }, 'lab/b': { reply: 'clean answer' } },
    });
    const { chunks, text } = await collect(fallbackStrategy().doStream!(context));
    expect(text).toBe('clean answer');
    // Calls that ended are not aborted afterwards.
    expect(aborted).toEqual([]);
    // One role chunk (target 2's), the content, the finish, and one summed usage chunk.
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.role)).toHaveLength(1);
    expect(chunks.at(-1)!.usage).toEqual(trace.usage);
    expect(trace.decision).toMatchObject({
      answeredBy: 'lab/b',
      attempts: [{ target: 'lab/a', afterFirstToken: false }],
    });
  });

  it('ends the stream by throwing after the first token when continuation is off', async () => {
    const failure = upstreamFailure('reset after first chunk');
    const { context, calls } = fakeContext({
      targets: { 'lab/a': { reply: 'one two three', error: failure, failAfterChunks: 2 }, 'lab/b': {} },
    });
    const seen: string[] = [];
    await expect(async () => {
      for await (const chunk of fallbackStrategy().doStream!(context))
        seen.push(chunk.choices[0]?.delta.content ?? '');
    }).rejects.toBe(failure);
    expect(seen.join('')).toBe('one two');
    expect(calls.map((call) => call.target)).toEqual(['lab/a']);
  });

  it('continues on the next target with the partial answer as an assistant prefix', async () => {
    const { context, calls, trace } = fakeContext<{ continueOnFailure: boolean }>({
      targets: {
        'lab/a': { reply: 'The capital of France', error: upstreamFailure(), failAfterChunks: 3 },
        'lab/b': { reply: ' France is Paris.' },
      },
      options: { continueOnFailure: true },
    });
    const { text, chunks } = await collect(fallbackStrategy().doStream!(context));
    expect(text).toBe('The capital of France is Paris.');
    const continuation = calls[1]!;
    expect(continuation.role).toBe('continuation');
    expect(continuation.request.messages.slice(-2)).toEqual([
      { role: 'assistant', content: 'The capital of' },
      { role: 'user', content: CONTINUE_INSTRUCTION },
    ]);
    expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set(['chunk-id']));
    expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    expect(trace.decision).toMatchObject({ continuations: 1, answeredBy: 'lab/b' });
  });

  it('drops a continuation that starts the answer over', async () => {
    const { context } = fakeContext({
      targets: {
        'lab/a': { reply: 'one two three', error: upstreamFailure(), failAfterChunks: 2 },
        'lab/b': { reply: 'one two three four' },
      },
      options: { continueOnFailure: true },
    });
    expect((await collect(fallbackStrategy().doStream!(context))).text).toBe('one two three four');
  });

  it('throws when the continuation target fails too, never hangs', async () => {
    const last = upstreamFailure('second');
    const { context } = fakeContext({
      targets: {
        'lab/a': { reply: 'one two', error: upstreamFailure(), failAfterChunks: 1 },
        'lab/b': { reply: 'x y', error: last, failAfterChunks: 1 },
      },
      options: { continueOnFailure: true },
    });
    await expect(collect(fallbackStrategy().doStream!(context))).rejects.toBe(last);
  });

  it('aborts the running call when the consumer stops early', async () => {
    const { context, aborted } = fakeContext({
      targets: { 'lab/a': { reply: 'one two three', chunkDelayMs: 5 } },
    });
    for await (const chunk of fallbackStrategy().doStream!(context)) {
      if (chunk.choices[0]?.delta.content) break;
    }
    expect(aborted).toEqual(['lab/a']);
  });
});

describe('fallbackStrategy, more stream cases', () => {
  it('moves past a continuation target that fails before its first token', async () => {
    const { context, calls } = fakeContext({
      targets: {
        'lab/a': { reply: 'one two three', error: upstreamFailure(), failAfterChunks: 1 },
        'lab/b': { error: upstreamFailure() },
        'lab/c': { reply: ' two three' },
      },
      options: { continueOnFailure: true },
    });
    expect((await collect(fallbackStrategy().doStream!(context))).text).toBe('one two three');
    expect(calls.map((call) => call.role)).toEqual(['primary', 'continuation', 'continuation']);
  });

  it('rejects with the abort reason when the request aborts mid-stream', async () => {
    const request = new AbortController();
    const { context, aborted } = fakeContext({
      targets: { 'lab/a': { reply: 'one two three', chunkDelayMs: 1000 }, 'lab/b': {} },
      options: { continueOnFailure: true },
      signal: request.signal,
    });
    const chunks: string[] = [];
    await expect(async () => {
      for await (const chunk of fallbackStrategy().doStream!(context)) {
        chunks.push(chunk.choices[0]?.delta.content ?? '');
        if (chunk.choices[0]?.delta.content) request.abort();
      }
    }).rejects.toMatchObject({ code: 'aborted' });
    expect(aborted).toEqual(['lab/a']);
  });
});
