import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../errors/aborted-error.js';
import type { FusionError } from '../errors/fusion-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import { abortReason, linkedAbort, throwIfAborted } from './abort.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('abortReason', () => {
  it('gives an AbortedError for a plain abort (whose DOMException has a numeric code)', () => {
    const controller = new AbortController();
    controller.abort();
    const error = abortReason(controller.signal);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as FusionError).code).toBe('aborted');
  });

  it('keeps a FusionError reason', () => {
    const controller = new AbortController();
    const reason = new UnavailableError('shutting down');
    controller.abort(reason);
    expect(abortReason(controller.signal)).toBe(reason);
  });

  it('gives a TimeoutError for AbortSignal.timeout', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    const error = abortReason(signal);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as FusionError).status).toBe(504);
  });

  it('wraps other reasons, even errors with a code, as AbortedError with the cause', () => {
    const controller = new AbortController();
    const reason = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    controller.abort(reason);
    const error = abortReason(controller.signal);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.cause).toBe(reason);
  });

  it('throwIfAborted throws only when aborted', () => {
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal)).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(AbortedError);
  });
});

describe('linkedAbort', () => {
  it('aborts when any parent aborts, with the parent’s reason', () => {
    const first = new AbortController();
    const second = new AbortController();
    const link = linkedAbort([first.signal, undefined, second.signal]);
    expect(link.signal.aborted).toBe(false);
    const reason = new Error('why');
    second.abort(reason);
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe(reason);
  });

  it('starts aborted when a parent already is', () => {
    const parent = new AbortController();
    parent.abort('gone');
    expect(linkedAbort([parent.signal]).signal.reason).toBe('gone');
  });

  it('aborts at the timeout with the given error, and not after dispose', () => {
    vi.useFakeTimers();
    const link = linkedAbort([], 100, () => new TimeoutError('late'));
    vi.advanceTimersByTime(99);
    expect(link.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(link.signal.reason).toBeInstanceOf(TimeoutError);

    const disposed = linkedAbort([], 100);
    disposed.dispose();
    vi.advanceTimersByTime(1000);
    expect(disposed.signal.aborted).toBe(false);
  });

  it('dispose removes the parent listener', () => {
    const parent = new AbortController();
    const link = linkedAbort([parent.signal]);
    link.dispose();
    parent.abort();
    expect(link.signal.aborted).toBe(false);
  });

  it('abort() aborts the linked signal only', () => {
    const parent = new AbortController();
    const link = linkedAbort([parent.signal]);
    link.abort('mine');
    expect(link.signal.reason).toBe('mine');
    expect(parent.signal.aborted).toBe(false);
  });
});
