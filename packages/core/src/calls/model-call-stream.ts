import type { FusionError } from '../errors/fusion-error.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { Usage } from '../spec/chat/chat-result.js';
import { abortReasonOf } from '../util/abort.js';
import { hasContent } from '../util/has-content.js';
import { DONE } from '../util/lazy-stream.js';
import { onReady, takeReady } from '../util/ready-values.js';
import { type CallDependencies, type CallRun, callRun, forModel, type ModelCallOptions } from './call-run.js';
import { StreamUsageCounter } from './estimate-usage.js';
import { StreamWatchdog } from './stream-watchdog.js';

const noop = () => {};

type Pending = {
  resolve: (result: IteratorResult<ChatChunk, void>) => void;
  reject: (error: unknown) => void;
};

/**
 * One streamed chat call of one model, with the queue slot and model use of a non-streamed call plus
 * the first-token and idle timeouts. Stops the upstream stream when the consumer stops iterating, when
 * the signal aborts, or when a deadline passes; a provider that ignores its signal cannot hang it (a
 * pending `next()` rejects as the call's scope aborts). A stream that ends without usage gets a last
 * chunk with an estimate (see {@link StreamUsageCounter}).
 *
 * Written out by hand rather than as an `async function*`: every chunk of every stream crosses it,
 * and one promise per chunk here is cheaper than a generator's several.
 */
class ModelCallStream implements AsyncGenerator<ChatChunk, void, undefined> {
  readonly #deps: CallDependencies;
  readonly #model: RegisteredModel;
  readonly #request: ChatRequest;
  readonly #options: ModelCallOptions;
  #run: CallRun | undefined;
  #watchdog: StreamWatchdog | undefined;
  #source: AsyncIterator<ChatChunk> | undefined;
  #state: 'idle' | 'open' | 'done' = 'idle';
  #pending: Pending | undefined;
  /** Why the call failed; the next `next()` rejects with it once, as a generator's would. */
  #failure: FusionError | undefined;
  #failureSeen = false;
  #firstTokenMs: number | undefined;
  #usage: Usage | undefined;
  #last: ChatChunk | undefined;
  readonly #counter = new StreamUsageCounter();
  /** A consumer waiting for a ready chunk (see {@link ReadyValues.onReady}); woken by the source or the end. */
  #ready: (() => void) | undefined;

  constructor(
    deps: CallDependencies,
    model: RegisteredModel,
    request: ChatRequest,
    options: ModelCallOptions,
  ) {
    this.#deps = deps;
    this.#model = model;
    this.#request = request;
    this.#options = options;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChatChunk, void>> {
    if (this.#state === 'open') return this.#pull();
    if (this.#state === 'done') return this.#afterEnd();
    this.#state = 'open';
    return this.#open().then(() => this.#pull());
  }

  /**
   * A chunk the provider already holds, noted as `next()` notes it (see {@link ReadyValues}). A chunk
   * the provider got wrong fails the call; the next `next()` rejects with it.
   */
  takeReady(): ChatChunk | undefined {
    if (this.#state !== 'open' || this.#pending !== undefined || this.#run?.scope.isAborted !== false)
      return undefined;
    const chunk = takeReady(this.#source);
    if (chunk === undefined) return undefined;
    try {
      return this.#accept(chunk).value as ChatChunk;
    } catch (error) {
      this.#fail(error);
      return undefined;
    }
  }

  /** Wakes `callback` when the provider has a chunk or settles, or when this call ends or aborts. */
  onReady(callback: () => void): boolean {
    if (this.#state !== 'open' || this.#pending !== undefined || this.#run?.scope.isAborted !== false)
      return false;
    if (!onReady(this.#source, this.#onSourceReady)) return false;
    this.#ready = callback;
    return true;
  }

  /**
   * The readiness callback this call gives its source, made once rather than per wait: it wakes the
   * consumer's callback, if one still waits (the call's own end may have woken it first).
   */
  readonly #onSourceReady = (): void => {
    const ready = this.#ready;
    if (ready === undefined) return;
    this.#ready = undefined;
    ready();
  };

  /** Stops the call: the upstream request is released and a pending `next()` ends. */
  async return(): Promise<IteratorResult<ChatChunk, void>> {
    const pending = this.#pending;
    this.#end(false);
    pending?.resolve(DONE);
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ChatChunk, void>> {
    await this.return();
    throw error;
  }

  /** Waits for a queue slot and the model, then starts the provider's stream. */
  async #open(): Promise<void> {
    const run = callRun(this.#deps, this.#model, this.#options, true);
    this.#run = run;
    // One reaction on the scope for the whole stream, instead of one listener or race per chunk.
    run.scope.whenAborted().catch(this.#onError);
    try {
      const callOptions = run.beginNow() ?? (await run.begin());
      if (this.#state === 'done') return;
      this.#watchdog = new StreamWatchdog(run.scope, this.#options);
      this.#watchdog.start();
      // Set on the run's own options, not spread: spreading would make the signal they give on demand.
      callOptions.firstTokenDeadline = Date.now() + this.#options.firstTokenTimeoutMs;
      this.#source = this.#model.provider
        .doStream(forModel(this.#request, this.#model), callOptions)
        [Symbol.asyncIterator]();
    } catch (error) {
      this.#failureSeen = true;
      throw this.#fail(error);
    }
  }

  /** A failure nobody has seen yet, else the end. */
  #afterEnd(): Promise<IteratorResult<ChatChunk, void>> {
    if (this.#failure === undefined || this.#failureSeen) return Promise.resolve(DONE);
    this.#failureSeen = true;
    return Promise.reject(this.#failure);
  }

  #pull(): Promise<IteratorResult<ChatChunk, void>> {
    const run = this.#run!;
    if (this.#state === 'done' || this.#source === undefined) return this.#afterEnd();
    // An abort while the consumer held the last chunk must stop the stream before the next one.
    if (run.scope.isAborted) {
      this.#fail(abortReasonOf(run.scope.reason));
      return this.#afterEnd();
    }
    const source = this.#source;
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      let next: Promise<IteratorResult<ChatChunk>>;
      try {
        next = source.next();
      } catch (error) {
        this.#onError(error);
        return;
      }
      next.then(this.#onResult, this.#onError);
    });
  }

  readonly #onResult = (next: IteratorResult<ChatChunk>): void => {
    const pending = this.#pending;
    // Already settled: the scope aborted (and rejected it) or the consumer returned.
    if (pending === undefined) return;
    this.#pending = undefined;
    try {
      pending.resolve(next.done ? this.#complete() : this.#accept(next.value));
    } catch (error) {
      // A chunk the provider got wrong (no `choices`, frozen) fails the call, not the process.
      if (this.#state === 'done') {
        pending.reject(error);
        return;
      }
      this.#pending = pending;
      this.#onError(error);
    }
  };

  /** Notes a chunk (first token, usage, idle clock) and names it after the model. */
  #accept(chunk: ChatChunk): IteratorResult<ChatChunk, void> {
    const run = this.#run!;
    if (this.#firstTokenMs === undefined && hasContent(chunk)) {
      this.#firstTokenMs = performance.now() - run.startedAt;
      this.#watchdog!.firstToken();
    } else {
      this.#watchdog!.chunk();
    }
    if (chunk.usage) this.#usage = chunk.usage;
    else this.#counter.count(chunk);
    chunk.model = this.#model.id;
    this.#last = chunk;
    return { done: false, value: chunk };
  }

  readonly #onError = (error: unknown): void => {
    const pending = this.#pending;
    this.#pending = undefined;
    if (this.#state === 'done') return;
    const failure = this.#fail(error);
    if (pending) {
      this.#failureSeen = true;
      pending.reject(failure);
    }
  };

  /** A consumer waiting in `onReady` learns that `next()` now settles at once. */
  #wake(): void {
    this.#onSourceReady();
  }

  /** The source ended: the estimated usage chunk when none came, else the end. */
  #complete(): IteratorResult<ChatChunk, void> {
    const last = this.#last;
    let estimate: ChatChunk | undefined;
    if (this.#usage === undefined && last !== undefined) {
      this.#usage = this.#counter.usage(this.#request);
      const { id, object, created } = last;
      estimate = { id, object, created, model: this.#model.id, choices: [], usage: this.#usage };
    }
    const run = this.#run!;
    const firstTokenMs = this.#firstTokenMs;
    run.succeed({
      ...(this.#usage ? { usage: this.#usage } : {}),
      ...(firstTokenMs === undefined ? {} : { firstTokenMs }),
    });
    this.#end(true);
    return estimate ? { done: false, value: estimate } : DONE;
  }

  /** The error to surface (the abort reason when aborted), after the call is ended. */
  #fail(error: unknown): FusionError {
    if (this.#failure) return this.#failure;
    const failure = this.#run!.fail(error);
    this.#failure = failure;
    this.#end(false);
    return failure;
  }

  /** Frees everything once; a call that did not complete aborts its scope to stop the upstream. */
  #end(completed: boolean): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#pending = undefined;
    const run = this.#run;
    if (!run) return;
    this.#watchdog?.stop();
    if (!completed) run.scope.abort(new DOMException('The stream was closed.', 'AbortError'));
    this.#source?.return?.().catch(noop);
    run.end();
    this.#wake();
  }
}

/**
 * One streamed chat call of one model (see {@link ModelCallStream}). Nothing starts before the first
 * `next()`.
 */
export function callStream(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): AsyncGenerator<ChatChunk, void, undefined> {
  return new ModelCallStream(deps, model, request, options);
}
