import { readFileSync } from 'node:fs';
import { ClientRequest, type IncomingMessage, type Server } from 'node:http';
import type { CallOptions } from '@fusionkit/core';
import { HttpResponse } from 'msw';

/** Base URL of the mocked upstream (msw intercepts `node:http`, no socket is opened). */
export const BASE_URL = 'http://mlx.test:8000/v1';
/** The same server's root, where `/health` lives. */
export const ORIGIN = 'http://mlx.test:8000';

/** A fixture file's text. */
export function readFixture(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
}

/** A JSON fixture, byte for byte, as the upstream's answer. */
export function jsonFixtureResponse(
  name: string,
  status = 200,
  headers: Record<string, string> = {},
): HttpResponse<string> {
  return new HttpResponse(readFixture(name), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** How {@link sseResponse} cuts the body into writes. */
export interface SseResponseOptions {
  /** Byte offsets at which to cut the body; by default one write per event. */
  cuts?: number[];
  /** Pause between writes, ms. @default 0 */
  delayMs?: number;
  /** After the body, keep the response open and send a comment every `delayMs` until the client goes away. */
  endless?: boolean;
  /** Ends an `endless` response. */
  signal?: AbortSignal;
}

/** An HTTP 200 `text/event-stream` answer with `body`, written in pieces as a real server would. */
export function sseResponse(body: string, options: SseResponseOptions = {}): HttpResponse<ReadableStream> {
  const bytes = new TextEncoder().encode(body);
  const pieces: Uint8Array[] = [];
  if (options.cuts) {
    let start = 0;
    for (const cut of [...options.cuts, bytes.length]) {
      if (cut > start) pieces.push(bytes.subarray(start, cut));
      start = Math.max(start, cut);
    }
  } else {
    for (const event of body.split(/(?<=\n\n)/)) pieces.push(new TextEncoder().encode(event));
  }
  const delayMs = options.delayMs ?? 0;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const piece of pieces) {
        if (options.signal?.aborted) break;
        controller.enqueue(piece);
        if (delayMs > 0) await sleep(delayMs);
      }
      while (options.endless && !options.signal?.aborted) {
        controller.enqueue(new TextEncoder().encode(': keep-alive\n\n'));
        await sleep(Math.max(delayMs, 5));
      }
      controller.close();
    },
  });
  return new HttpResponse(stream, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  });
}

/** Options of a provider call with a fresh signal. */
export function callOptions(overrides: Partial<CallOptions> = {}): CallOptions {
  return { signal: new AbortController().signal, requestId: 'req-test-1', ...overrides };
}

/**
 * A signal that aborts when the client gives the request up.
 *
 * msw 2.15's `node:http` interceptor never aborts `request.signal` when the client destroys its
 * request, so this also watches the intercepted `http.ClientRequest` (which msw keeps on the
 * Request) and aborts when it closes before its response completed.
 */
export function upstreamSignal(request: Request): AbortSignal {
  const controller = new AbortController();
  const rawKey = Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'kRawRequest');
  const raw: unknown = rawKey === undefined ? undefined : Reflect.get(request, rawKey);
  if (!(raw instanceof ClientRequest)) throw new Error('msw no longer exposes the raw ClientRequest.');
  raw.once('close', () => {
    const response = (raw as ClientRequest & { res?: IncomingMessage }).res;
    if (!response?.complete) controller.abort(new Error('The client closed the request.'));
  });
  return AbortSignal.any([request.signal, controller.signal]);
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collects every chunk of an async iterable. */
export async function collect<TItem>(iterable: AsyncIterable<TItem>): Promise<TItem[]> {
  const items: TItem[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Stops a real test server now: its keep-alive connections are cut, then it stops listening. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
