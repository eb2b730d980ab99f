import { describe, expect, it, vi } from 'vitest';
import { LazyStream } from './lazy-stream.js';

async function* numbers(count: number, failAt?: number): AsyncGenerator<number> {
  for (let index = 0; index < count; index++) {
    if (index === failAt) throw new Error('boom');
    yield index;
  }
}

function stream(source: AsyncIterator<number>, observe?: (value: number) => void) {
  const open = vi.fn(async () => source);
  const end = vi.fn();
  return { stream: new LazyStream<number>({ open, end, ...(observe ? { observe } : {}) }), open, end };
}

describe('LazyStream', () => {
  it('opens on the first next(), passes every value on, and ends once', async () => {
    const seen: number[] = [];
    const { stream: lazy, open, end } = stream(numbers(3), (value) => seen.push(value));
    expect(open).not.toHaveBeenCalled();
    const values: number[] = [];
    for await (const value of lazy) values.push(value);
    expect(values).toEqual([0, 1, 2]);
    expect(seen).toEqual([0, 1, 2]);
    expect(open).toHaveBeenCalledTimes(1);
    expect(end).toHaveBeenCalledTimes(1);
    expect(await lazy.next()).toEqual({ done: true, value: undefined });
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('never opens when returned before the first next()', async () => {
    const { stream: lazy, open, end } = stream(numbers(3));
    expect(await lazy.return()).toEqual({ done: true, value: undefined });
    expect(open).not.toHaveBeenCalled();
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('ends when the source fails, and when the opening fails', async () => {
    const failing = stream(numbers(3, 1));
    await expect(async () => {
      for await (const _ of failing.stream);
    }).rejects.toThrow('boom');
    expect(failing.end).toHaveBeenCalledTimes(1);

    const end = vi.fn();
    const refused = new LazyStream<number>({ open: () => Promise.reject(new Error('refused')), end });
    await expect(refused.next()).rejects.toThrow('refused');
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('returns its source when the consumer stops early', async () => {
    const source = numbers(10);
    const returned = vi.spyOn(source, 'return');
    const { stream: lazy, end } = stream(source);
    for await (const value of lazy) if (value === 2) break;
    expect(returned).toHaveBeenCalled();
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('lets go of a source that opened after the stream was returned', async () => {
    const source = numbers(10);
    const returned = vi.spyOn(source, 'return');
    let release: () => void = () => {};
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    const end = vi.fn();
    const lazy = new LazyStream<number>({ open: () => opened.then(() => source), end });
    const pending = lazy.next();
    await lazy.return();
    release();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(returned).toHaveBeenCalled();
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('cancels before returning its source, which may wait for a pending value', async () => {
    const order: string[] = [];
    let releaseValue: () => void = () => {};
    const source: AsyncIterator<number> = {
      next: () =>
        new Promise((resolve) => {
          releaseValue = () => resolve({ done: false, value: 1 });
        }),
      return: async () => {
        order.push('source returned');
        return { done: true, value: undefined };
      },
    };
    const lazy = new LazyStream<number>({
      open: async () => source,
      end: () => order.push('end'),
      cancel: () => {
        order.push('cancel');
        releaseValue();
      },
    });
    const pending = lazy.next();
    await new Promise((resolve) => setImmediate(resolve));
    await lazy.return();
    expect(order).toEqual(['cancel', 'end', 'source returned']);
    await pending;
    await lazy.return();
    await expect(lazy.throw(new Error('after the end'))).rejects.toThrow('after the end');
    expect(order).toEqual(['cancel', 'end', 'source returned']);
  });
});
