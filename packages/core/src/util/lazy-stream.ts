import { onReady, takeReady } from './ready-values.js';

/** The result of an iterator that has ended; shared by the hand-written streams of the call path. */
export const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

/** What a {@link LazyStream} runs: how it starts, what it sees pass, how it ends. */
export interface LazyStreamOptions<TValue> {
  /** Starts the work on the first `next()` and gives the iterator of its values. */
  open: () => Promise<AsyncIterator<TValue>>;
  /** Called once when the stream is done: ended, failed, returned or thrown into. */
  end: () => void;
  /**
   * Called when the consumer stops the stream before its end (`return()`, `throw()`), before the
   * source is returned: a source's `return()` may wait for a pending value, a cancel need not.
   */
  cancel?: () => void;
  /** Sees each value as it passes. */
  observe?: (value: TValue) => void;
}

/**
 * An async generator written out by hand, for the one layer every streamed chunk crosses: it opens its
 * source on the first `next()` (nothing starts before), then hands on each of the source's results
 * with one `then`, where an `async function*` that `yield*`s costs several promises per chunk. Like a
 * generator, `return()` before the first `next()` ends it without ever opening it.
 */
export class LazyStream<TValue> implements AsyncGenerator<TValue, void, undefined> {
  readonly #options: LazyStreamOptions<TValue>;
  #source: AsyncIterator<TValue> | undefined;
  #opening: Promise<AsyncIterator<TValue>> | undefined;
  #ended = false;

  constructor(options: LazyStreamOptions<TValue>) {
    this.#options = options;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<TValue, void>> {
    if (this.#ended) return Promise.resolve(DONE);
    const source = this.#source;
    if (source) return source.next().then(this.#onResult, this.#onError);
    this.#opening ??= this.#options.open().then((opened) => {
      this.#source = opened;
      return opened;
    });
    return this.#opening.then((opened) => {
      if (this.#ended) {
        // Returned while it was opening: what was opened is let go.
        opened.return?.().catch(() => {});
        return DONE;
      }
      return opened.next().then(this.#onResult, this.#onError);
    }, this.#onError);
  }

  /** The source's ready value, seen as `next()` would see it (see {@link ReadyValues}). */
  takeReady(): TValue | undefined {
    if (this.#ended) return undefined;
    const value = takeReady(this.#source);
    if (value !== undefined) this.#options.observe?.(value);
    return value;
  }

  /** Wakes `callback` when the source has a value or settles (see {@link ReadyValues}). */
  onReady(callback: () => void): boolean {
    return !this.#ended && onReady(this.#source, callback);
  }

  async return(): Promise<IteratorResult<TValue, void>> {
    if (this.#ended) return DONE;
    this.#options.cancel?.();
    this.#finish();
    await this.#source?.return?.();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<TValue, void>> {
    if (!this.#ended) {
      this.#options.cancel?.();
      this.#finish();
      await this.#source?.return?.();
    }
    throw error;
  }

  readonly #onResult = (result: IteratorResult<TValue>): IteratorResult<TValue, void> => {
    if (result.done) {
      this.#finish();
      return DONE;
    }
    this.#options.observe?.(result.value);
    return result;
  };

  readonly #onError = (error: unknown): never => {
    this.#finish();
    throw error;
  };

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#options.end();
  }
}
