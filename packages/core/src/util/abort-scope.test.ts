import { describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../errors/aborted-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { ABORT_SCOPE, AbortScope, abortableOf, isAbortScope, onAbort, raceScope } from './abort-scope.js';

describe('AbortScope', () => {
  it('makes its signal on first read, aborted with the reason when the scope aborted before', () => {
    const scope = new AbortScope();
    const reason = new Error('gone');
    scope.abort(reason);
    expect(scope.isAborted).toBe(true);
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toBe(reason);
  });

  it('aborts a signal read earlier, and gives an AbortError when no reason is given', () => {
    const scope = new AbortScope();
    const { signal } = scope;
    scope.abort();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('AbortError');
    expect(scope.reason).toBe(signal.reason);
  });

  it('calls each listener once, not after it stopped listening, and none for a scope already aborted', () => {
    const scope = new AbortScope();
    const calls: string[] = [];
    onAbort(scope, () => calls.push('a'));
    const stop = scope.onAbort(() => calls.push('b'));
    stop();
    scope.abort();
    scope.abort();
    scope.onAbort(() => calls.push('late'));
    expect(calls).toEqual(['a']);
  });

  it('runs every listener and ends aborted even when one throws, then throws its error', async () => {
    const scope = new AbortScope();
    const calls: string[] = [];
    scope.onAbort(() => {
      throw new Error('listener failed');
    });
    scope.onAbort(() => calls.push('after'));
    const raced = raceScope(new Promise(() => {}), scope);
    expect(() => scope.abort()).toThrow('listener failed');
    expect(calls).toEqual(['after']);
    expect(scope.isAborted).toBe(true);
    await expect(raced).rejects.toBeInstanceOf(AbortedError);
  });

  it('follows a parent scope, a signal, and its timeout', async () => {
    const parent = new AbortScope();
    const child = new AbortScope(parent);
    const controller = new AbortController();
    const other = new AbortScope(controller.signal);
    parent.abort(new Error('parent'));
    controller.abort(new Error('signal'));
    expect((child.reason as Error).message).toBe('parent');
    expect((other.reason as Error).message).toBe('signal');
    const timed = new AbortScope(undefined, 5, () => new TimeoutError('late'));
    await expect(raceScope(new Promise(() => {}), timed)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('stops following its parent once disposed', () => {
    const parent = new AbortScope();
    const child = new AbortScope(parent);
    child.dispose();
    parent.abort();
    expect(child.isAborted).toBe(false);
  });

  it('aborts every follower, in order, when one stops another while the scope aborts', () => {
    const parent = new AbortScope();
    const calls: string[] = [];
    const children = [new AbortScope(parent), new AbortScope(parent)];
    let stopLast = () => {};
    parent.onAbort(() => {
      calls.push('first');
      stopLast();
    });
    stopLast = parent.onAbort(() => calls.push('last'));
    parent.onAbort(() => calls.push('after'));
    children[0]!.dispose();
    parent.abort(new Error('gone'));
    // Listeners run as registered at the moment of the abort; a disposed child has left.
    expect(calls).toEqual(['first', 'last', 'after']);
    expect(children.map((child) => child.isAborted)).toEqual([false, true]);
    expect((children[1]!.reason as Error).message).toBe('gone');
  });

  it('follows a scope of another copy of this module through its public methods', () => {
    // What another bundle's AbortScope looks like from here: the brand and the public API.
    const foreign = new AbortScope();
    const lookalike = {
      [Symbol.for('@fusionkit/abort-scope/brand')]: true,
      get isAborted() {
        return foreign.isAborted;
      },
      get reason() {
        return foreign.reason;
      },
      onAbort: (listener: () => void) => foreign.onAbort(listener),
    } as unknown as AbortScope;
    expect(isAbortScope(lookalike)).toBe(true);
    const child = new AbortScope(lookalike);
    const left = new AbortScope(lookalike);
    left.dispose();
    foreign.abort(new Error('other copy'));
    expect((child.reason as Error).message).toBe('other copy');
    expect(left.isAborted).toBe(false);
  });
  it('races work against the abort, with the reason as a FusionError', async () => {
    const scope = new AbortScope();
    const raced = raceScope(new Promise(() => {}), scope);
    scope.abort(new DOMException('client left', 'AbortError'));
    await expect(raced).rejects.toBeInstanceOf(AbortedError);
    await expect(raceScope(Promise.resolve(1), new AbortScope())).resolves.toBe(1);
  });

  it('takes its listener off the scope once the work settles, and passes a rejection through', async () => {
    const scope = new AbortScope();
    const stops: Array<ReturnType<typeof vi.fn>> = [];
    const onAbort = scope.onAbort.bind(scope);
    vi.spyOn(scope, 'onAbort').mockImplementation((listener) => {
      const stop = vi.fn(onAbort(listener));
      stops.push(stop);
      return stop;
    });
    await expect(raceScope(Promise.resolve('done'), scope)).resolves.toBe('done');
    await expect(raceScope(Promise.reject(new Error('upstream failed')), scope)).rejects.toThrow(
      'upstream failed',
    );
    // Each race listened once and stopped listening when its work settled: the request's scope,
    // which outlives the call, holds nothing of it (no reaction on a promise that never settles).
    expect(stops).toHaveLength(2);
    for (const stop of stops) expect(stop).toHaveBeenCalledTimes(1);
    const listener = vi.fn();
    scope.onAbort(listener);
    scope.abort();
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('answers a scope aborted already with its reason, and still settles the work quietly', async () => {
    const scope = new AbortScope();
    scope.abort(new DOMException('client left', 'AbortError'));
    await expect(raceScope(Promise.reject(new Error('late')), scope)).rejects.toBeInstanceOf(AbortedError);
  });

  it('is found on call options that carry it, else their signal is', () => {
    const scope = new AbortScope();
    const signal = new AbortController().signal;
    expect(abortableOf({ signal, [ABORT_SCOPE]: scope } as { signal: AbortSignal })).toBe(scope);
    expect(abortableOf({ signal })).toBe(signal);
    expect(isAbortScope(scope)).toBe(true);
    expect(isAbortScope(signal)).toBe(false);
  });
});
