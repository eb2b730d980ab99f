import type { FusionError } from '../errors/fusion-error.js';
import { abortReasonOf } from './abort.js';

/**
 * Where an object that belongs to a scope keeps it (the call options a provider gets, the adapter's
 * request), so that the core and the providers can follow an abort without creating its signal.
 */
export const ABORT_SCOPE: unique symbol = Symbol.for('@fusionkit/abort-scope') as never;

/**
 * Set to `true` on a provider whose calls settle as soon as the scope in their call options aborts
 * (it follows {@link abortableOf} itself): the call path then need not race each call against it.
 */
export const FOLLOWS_ABORT: unique symbol = Symbol.for('@fusionkit/follows-abort') as never;

/** A signal, or a scope that gives one on demand. */
export type Abortable = AbortSignal | AbortScope;

const noop = () => {};
/** Marks scopes across copies of this module (the CommonJS entries each bundle their own). */
const BRAND = Symbol.for('@fusionkit/abort-scope/brand');

/** Whether `value` is an {@link AbortScope}, of this copy of the module or another. */
export function isAbortScope(value: unknown): value is AbortScope {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: boolean })[BRAND] === true;
}

/**
 * A function or a scope: what a scope calls when it aborts (a listener, or a child scope that follows
 * it), and what undoes one of its own `follow`s (a function, or the parent scope to leave). A scope
 * is kept as itself rather than wrapped in a closure: a request's scopes follow each other on every
 * call.
 */
type Follower = (() => void) | AbortScope;
/**
 * One follower or several: most scopes have none or one, and an array made empty then pushed to
 * reserves room for 17.
 */
type Followers = Follower | Follower[] | undefined;

function withFollower(followers: Followers, follower: Follower): Followers {
  if (followers === undefined) return follower;
  if (Array.isArray(followers)) {
    followers.push(follower);
    return followers;
  }
  return [followers, follower];
}

function withoutFollower(followers: Followers, follower: Follower): Followers {
  if (followers === follower) return undefined;
  if (Array.isArray(followers)) {
    const index = followers.indexOf(follower);
    if (index !== -1) followers.splice(index, 1);
  }
  return followers;
}

/**
 * The cancellation of one request or call: aborted when its parent aborts, when the timeout passes,
 * or by `abort()`. Its `signal` is made only when someone reads it: on Node 20 an `AbortSignal`
 * costs microseconds to create and to listen to, and a plain request needs none. Internal listeners
 * use {@link AbortScope.onAbort}; `whenAborted()` gives a promise to race work against.
 */
export class AbortScope {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  /** Called on abort. */
  #followers: Followers;
  /** Undoes each `follow`: a function, or the parent scope of this copy of the module to leave. */
  #unfollow: Followers;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #whenAborted: Promise<never> | undefined;
  #rejectAborted: ((error: Error) => void) | undefined;

  get [BRAND](): boolean {
    return true;
  }

  constructor(parent?: Abortable, timeoutMs?: number, onTimeout?: () => Error) {
    if (parent) {
      this.follow(parent);
      if (this.#aborted) return;
    }
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(() => this.abort(onTimeout?.()), timeoutMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Aborts this scope too when `parent` aborts (a per-call scope on top of the request's). */
  follow(parent: Abortable): void {
    if (this.#aborted) return;
    if (parent instanceof AbortScope) {
      if (parent.#aborted) {
        this.abort(parent.#reason);
        return;
      }
      parent.#followers = withFollower(parent.#followers, this);
      this.#unfollow = withFollower(this.#unfollow, parent);
      return;
    }
    if (isAbortScope(parent)) {
      // A scope of another copy of this module: through its public API.
      if (parent.isAborted) {
        this.abort(parent.reason);
        return;
      }
      this.#unfollow = withFollower(
        this.#unfollow,
        parent.onAbort(() => this.abort(parent.reason)),
      );
      return;
    }
    if (parent.aborted) {
      this.abort(parent.reason);
      return;
    }
    const listener = () => this.abort(parent.reason);
    parent.addEventListener('abort', listener, { once: true });
    this.#unfollow = withFollower(this.#unfollow, () => parent.removeEventListener('abort', listener));
  }

  /** The scope as a signal, made on first use; it aborts with the scope. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get isAborted(): boolean {
    return this.#aborted;
  }

  /** Why it aborted (as `AbortSignal.reason`); `undefined` until then. */
  get reason(): unknown {
    return this.#reason;
  }

  /**
   * Aborts: the signal (if made), then every listener and following scope; a listener's error is
   * thrown after all ran.
   */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    // As AbortController: no reason given is an AbortError.
    this.#reason =
      reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.#controller?.abort(this.#reason);
    const followers = this.#followers;
    this.#followers = undefined;
    let failure: { error: unknown } | undefined;
    if (followers !== undefined) {
      for (const follower of Array.isArray(followers) ? followers : [followers]) {
        try {
          if (follower instanceof AbortScope) follower.abort(this.#reason);
          else follower();
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    this.#rejectAborted?.(abortReasonOf(this.#reason));
    this.dispose();
    if (failure) throw failure.error;
  }

  /**
   * Calls `listener` once when the scope aborts, without making its signal. Returns the function
   * that stops listening. Like `addEventListener`, nothing is called for a scope already aborted.
   */
  onAbort(listener: () => void): () => void {
    if (this.#aborted) return noop;
    this.#followers = withFollower(this.#followers, listener);
    return () => {
      this.#followers = withoutFollower(this.#followers, listener);
    };
  }

  /** A promise that rejects with the abort reason (a FusionError) once the scope aborts. */
  whenAborted(): Promise<never> {
    if (!this.#whenAborted) {
      this.#whenAborted = this.#aborted
        ? Promise.reject(abortReasonOf(this.#reason))
        : new Promise<never>((_resolve, reject) => {
            this.#rejectAborted = reject;
          });
      // Racing is optional: an abort nobody raced must not be an unhandled rejection.
      this.#whenAborted.catch(noop);
    }
    return this.#whenAborted;
  }

  /** Stops listening to the parent and the clock. The scope keeps its state. */
  dispose(): void {
    const unfollow = this.#unfollow;
    if (unfollow !== undefined) {
      this.#unfollow = undefined;
      if (Array.isArray(unfollow)) for (const undo of unfollow) this.#undo(undo);
      else this.#undo(unfollow);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #undo(undo: Follower): void {
    if (undo instanceof AbortScope) undo.#followers = withoutFollower(undo.#followers, this);
    else undo();
  }
}

/**
 * A function that gives its target an enumerable `signal` property, made by `read` only when the
 * property is read. Call options, hook contexts and route contexts get their signal this way rather
 * than from a `get signal() {…}` in an object literal: such a literal makes a new getter closure per
 * object and leaves the object in dictionary mode, and measured on Node 20 every literal of that kind
 * kept its request's objects alive through young-generation collections (a plain route answered
 * through `fusion.handle` promoted ~0.9 MB per scavenge to the old generation; with this, none). The
 * one getter made here is shared by every target, which stays on one fast map. The property is an
 * own, enumerable one, as the literal's was, so `{ ...options }` still copies the signal.
 */
export function lazySignal<TSource>(
  read: (source: TSource) => AbortSignal,
): <TTarget extends TSource>(target: TTarget) => TTarget & { readonly signal: AbortSignal } {
  const descriptor: PropertyDescriptor = Object.freeze({
    get(this: TSource): AbortSignal {
      return read(this);
    },
    enumerable: true,
    configurable: true,
  });
  return <TTarget extends TSource>(target: TTarget) =>
    Object.defineProperty(target, 'signal', descriptor) as TTarget & { readonly signal: AbortSignal };
}

/** Gives `target` the `signal` of its scope (`target[ABORT_SCOPE]`), made when read (see {@link lazySignal}). */
export const withScopeSignal = lazySignal(
  (target: { [ABORT_SCOPE]: AbortScope }) => target[ABORT_SCOPE].signal,
);

/**
 * Settles like `promise`, or rejects with the scope's abort reason if the scope aborts first.
 *
 * Not `Promise.race([promise, scope.whenAborted()])`: that leaves a reaction on the scope's
 * never-settling promise, and measured on Node 20 it made every chat's objects outlive young
 * collections (1.9 MB promoted per scavenge against 0.6 MB, `fusion.chat` with 4 in flight). Here the
 * listener is taken off the scope as soon as the work settles.
 */
export function raceScope<TValue>(promise: Promise<TValue>, scope: AbortScope): Promise<TValue> {
  if (scope.isAborted) {
    promise.catch(noop);
    return scope.whenAborted();
  }
  return new Promise<TValue>((resolve, reject) => {
    const stop = scope.onAbort(() => reject(abortReasonOf(scope.reason)));
    promise.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}

/**
 * What aborts a call made with `options`: the scope the orchestrator attached (no signal is made),
 * else `options.signal`.
 */
export function abortableOf(
  options: { signal?: AbortSignal | undefined } | undefined,
): Abortable | undefined {
  if (options === undefined) return undefined;
  return (options as { [ABORT_SCOPE]?: AbortScope })[ABORT_SCOPE] ?? options.signal;
}

/** Whether `abortable` has aborted. */
export function isAborted(abortable: Abortable): boolean {
  return isAbortScope(abortable) ? abortable.isAborted : abortable.aborted;
}

/** The abort reason of `abortable` as a FusionError (see `abortReason`). */
export function abortReasonOfAbortable(abortable: Abortable): FusionError {
  return abortReasonOf(abortable.reason);
}

/**
 * Calls `listener` once when `abortable` aborts. Returns the function that stops listening. Nothing
 * is called when it has aborted already: check {@link isAborted} first.
 */
export function onAbort(abortable: Abortable, listener: () => void): () => void {
  if (isAbortScope(abortable)) return abortable.onAbort(listener);
  abortable.addEventListener('abort', listener, { once: true });
  return () => abortable.removeEventListener('abort', listener);
}
