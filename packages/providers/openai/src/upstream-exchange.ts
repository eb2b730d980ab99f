import type { ClientRequest, IncomingMessage } from 'node:http';
import { type FusionError, TimeoutError, UpstreamError } from '@fusionkit/core';
import { type Abortable, abortReasonOfAbortable, isAborted, onAbort } from '@fusionkit/core/internal';
import { isStaleSocketError, toTransportError } from './transport-error.js';

/** How an {@link UpstreamExchange} sends its request and when it gives up. */
export interface UpstreamExchangeOptions {
  /** Creates the `node:http` request (not yet ended); called again for a retry on a stale socket. */
  createRequest: () => ClientRequest;
  /** The request body, sent with `content-length`; kept only until the response arrives. */
  body: Buffer | string | undefined;
  /** Aborting it destroys the upstream request (a call's scope is followed without making its signal). */
  signal: Abortable | undefined;
  /** Milliseconds until the exchange fails with a TimeoutError, unless {@link UpstreamExchange.stopTimer} is called. */
  timeoutMs: number | undefined;
  /** Provider id, for error messages. */
  providerId: string;
  /** Called once with the first failure (abort, timeout, socket error, explicit {@link UpstreamExchange.fail}). */
  onFailure?: (error: FusionError) => void;
}

/**
 * One request to an upstream server and its response, with the three ways it can end early: the
 * caller's signal, a timeout and socket errors. Any of them destroys the request (its socket is
 * not reused) and is remembered as {@link UpstreamExchange.failure}, so later stream errors report
 * the cause instead of "socket hang up".
 */
export class UpstreamExchange {
  readonly #options: Omit<UpstreamExchangeOptions, 'body'>;
  #request: ClientRequest | undefined;
  #response: IncomingMessage | undefined;
  #failure: FusionError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Kept for one resend on a stale pooled socket, dropped once the response arrives. */
  #body: Buffer | string | undefined;
  #retried = false;
  #disposed = false;
  #waiters: { resolve: (response: IncomingMessage) => void; reject: (error: Error) => void }[] = [];
  #stopAbort: (() => void) | undefined;

  constructor(options: UpstreamExchangeOptions) {
    // The body is held in one place only, so that dropping it lets it go.
    const { body, ...rest } = options;
    this.#options = rest;
    this.#body = body;
    const { signal, timeoutMs } = options;
    if (signal) {
      if (isAborted(signal)) {
        this.#failure = abortReasonOfAbortable(signal);
        this.#disposed = true;
        return;
      }
      this.#stopAbort = onAbort(signal, () => this.fail(abortReasonOfAbortable(signal)));
    }
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(
        () =>
          this.fail(
            new TimeoutError(
              `The upstream of provider '${options.providerId}' did not answer within ${timeoutMs} ms.`,
            ),
          ),
        Math.max(0, timeoutMs),
      );
      this.#timer.unref?.();
    }
    this.#send();
  }

  /** The first failure, once there is one. */
  get failure(): FusionError | undefined {
    return this.#failure;
  }

  /** Resolves with the response once its headers arrived. */
  response(): Promise<IncomingMessage> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#response) return Promise.resolve(this.#response);
    return new Promise((resolve, reject) => this.#wait({ resolve, reject }));
  }

  #wait(waiter: { resolve: (response: IncomingMessage) => void; reject: (error: Error) => void }): void {
    // A literal for the usual one waiter: `push` onto `[]` reserves room for 17.
    if (this.#waiters.length === 0) this.#waiters = [waiter];
    else this.#waiters.push(waiter);
  }

  /** The response, once its headers arrived. */
  get incoming(): IncomingMessage | undefined {
    return this.#response;
  }

  /**
   * Reads the whole body (once the response arrives); fails the exchange when it is larger than
   * `maxBytes`. One promise for the whole read.
   */
  readBody(maxBytes: number): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Buffer>((resolve, reject) => {
      const read = (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onError = () => reject(this.#failure ?? this.#closedEarly());
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            this.fail(
              new UpstreamError(`The upstream response was larger than ${maxBytes} bytes.`, {
                isRetryable: false,
              }),
            );
            reject(this.#failure);
            return;
          }
          chunks.push(chunk);
        });
        response.once('end', () => {
          this.#dispose();
          resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
        });
        response.once('error', onError);
        response.once('close', () => {
          if (!response.complete) onError();
        });
      };
      if (this.#response) read(this.#response);
      else this.#wait({ resolve: read, reject });
    });
  }

  /** Stops the timeout: a stream that started is timed by the orchestrator's first-token and idle deadlines. */
  stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Ends the exchange with an error: destroys the upstream request and rejects whoever waits. */
  fail(error: FusionError): void {
    if (this.#failure !== undefined) return;
    if (this.#disposed && this.#response?.complete) return;
    this.#failure = error;
    this.#dispose();
    this.#request?.destroy();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    this.#options.onFailure?.(error);
  }

  /**
   * Ends the exchange normally. A response read to its end leaves its socket in the pool; one still
   * arriving is drained when complete, or destroyed.
   */
  release(): void {
    this.#dispose();
    const response = this.#response;
    if (response?.complete) response.resume();
    else if (this.#failure === undefined) this.#request?.destroy();
  }

  #send(): void {
    const request = this.#options.createRequest();
    this.#request = request;
    request.on('response', (response) => {
      this.#response = response;
      // A stream may stay open for minutes: its prompt need not (no resend happens after this).
      this.#body = undefined;
      for (const waiter of this.#waiters.splice(0)) waiter.resolve(response);
    });
    request.on('error', (error) => {
      if (this.#failure !== undefined || this.#request !== request) return;
      if (
        !this.#retried &&
        this.#response === undefined &&
        request.reusedSocket &&
        isStaleSocketError(error)
      ) {
        this.#retried = true;
        this.#send();
        return;
      }
      this.fail(toTransportError(error, this.#options.providerId));
    });
    request.end(this.#body);
  }

  #closedEarly(): FusionError {
    return toTransportError(
      new Error('the connection closed before the response ended'),
      this.#options.providerId,
    );
  }

  #dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopAbort?.();
    this.#stopAbort = undefined;
  }
}
