/**
 * An async iterator that can also hand on a value it already holds, without a promise: the hot path
 * of a stream drains the chunks one upstream packet carried in one synchronous loop instead of a
 * chain of promises per chunk per layer.
 *
 * `takeReady()` returns the next value when one is ready now, else `undefined`. It never ends the
 * stream and never throws: the end, a failure and waiting stay `next()`'s, which the consumer calls
 * whenever `takeReady()` has nothing. It must not be called while a `next()` is pending. A layer in
 * between offers it only when it can do for the value what its `next()` would do.
 */
export interface ReadyValues<TValue> {
  takeReady(): TValue | undefined;
  /**
   * Optional: calls `callback` once, without a promise, when `takeReady()` may have a value or
   * `next()` would settle without waiting (a chunk came, the stream ended or failed, the call was
   * aborted or returned). Returns `false` when it cannot promise that now; then the consumer calls
   * `next()`. Only when `takeReady()` has just returned `undefined` and no `next()` is pending.
   */
  onReady?(callback: () => void): boolean;
}

/** The iterator's ready value, when it offers {@link ReadyValues} and has one now. */
export function takeReady<TValue>(iterator: AsyncIterator<TValue> | undefined): TValue | undefined {
  const take = (iterator as Partial<ReadyValues<TValue>> | undefined)?.takeReady;
  return take === undefined ? undefined : take.call(iterator);
}

/** Registers a readiness callback on the iterator (see {@link ReadyValues.onReady}); `false` when it has none. */
export function onReady<TValue>(iterator: AsyncIterator<TValue> | undefined, callback: () => void): boolean {
  const register = (iterator as Partial<ReadyValues<TValue>> | undefined)?.onReady;
  return register === undefined ? false : register.call(iterator, callback);
}
