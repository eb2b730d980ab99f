import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeHandler, type NodeHandlerOptions } from '../create-node-handler.js';
import type { FusionLike } from '../fusion-like.js';

export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `createNodeHandler(fusion)` on a real server on port 0. */
export async function startServer(fusion: FusionLike, options?: NodeHandlerOptions): Promise<TestServer> {
  const server = createServer(createNodeHandler(fusion, options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fake orchestrator whose `handle` the test writes; it records every request it was given. */
export function fakeFusion(
  handle: (request: Request) => Response | Promise<Response>,
  extra: Partial<FusionLike> = {},
): FusionLike & { requests: Request[] } {
  const requests: Request[] = [];
  return {
    requests,
    ...extra,
    async handle(request) {
      requests.push(request);
      return handle(request);
    },
  };
}

/** A promise with its resolve function, for steps the test releases. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Rejects when `promise` takes longer than `ms`: for "happens promptly" expectations. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A request through node:http (no connection reuse), for headers fetch would hide or refuse. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    request.end(options.body);
  });
}
