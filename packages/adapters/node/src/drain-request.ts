import type { IncomingMessage, ServerResponse } from 'node:http';

/** How much of an unread request body is read and thrown away after an early answer. */
export interface DrainLimits {
  /** Bytes read at most before the connection is closed anyway. @default 64 MiB */
  maxBytes?: number;
  /** Time spent at most before the connection is closed anyway, ms. @default 10000 */
  timeoutMs?: number;
}

export const DEFAULT_DRAIN_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

type End = ServerResponse['end'];

/**
 * For an answer given before the request body has all arrived (413, 401, 403, 415…): the connection
 * closes after it (`connection: close`), but not at once. Closing a socket with unread bytes makes
 * the kernel reset it, and a client still sending its body then sees EPIPE or ECONNRESET, often
 * before it reads the answer, and takes it for a network error worth retrying. So the answer is
 * written whole, then the rest of the body is read and discarded (as nginx's lingering close does)
 * until it ends, the client goes away, or `maxBytes` or `timeoutMs` pass; only then does the
 * response end and Node close the connection.
 *
 * Call it before the response is ended. Does nothing more than `connection: close` once the body is
 * complete.
 */
export function closeAfterDraining(
  request: IncomingMessage,
  response: ServerResponse,
  limits: DrainLimits = {},
): void {
  if (!response.headersSent) response.setHeader('connection', 'close');
  if (request.complete || response.writableEnded) return;
  const end = response.end as (...args: unknown[]) => ServerResponse;
  response.end = function deferredEnd(this: ServerResponse, ...args: unknown[]): ServerResponse {
    response.end = end as End;
    if (request.complete || response.destroyed) return end.apply(response, args);
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const [chunk, encoding] = args as [string | Uint8Array | undefined, BufferEncoding | undefined];
    if (chunk !== undefined && chunk !== null) {
      // The whole answer leaves now, with its length, so the client has it before the connection ends.
      if (!response.headersSent && !response.hasHeader('content-length')) {
        response.setHeader(
          'content-length',
          typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength,
        );
      }
      if (encoding) response.write(chunk, encoding);
      else response.write(chunk);
    } else if (!response.headersSent) {
      response.setHeader('content-length', 0);
      response.flushHeaders();
    }
    discardBody(request, limits).then(() => {
      if (callback) end.call(response, callback);
      else end.call(response);
    });
    return response;
  } as End;
}

/** Reads and drops the rest of the body; resolves when it ended, the client left, or a limit passed. */
function discardBody(request: IncomingMessage, limits: DrainLimits): Promise<void> {
  const maxBytes = limits.maxBytes ?? DEFAULT_DRAIN_MAX_BYTES;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  return new Promise<void>((resolve) => {
    let read = 0;
    const finish = () => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', finish);
      request.off('close', finish);
      request.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.byteLength;
      if (read > maxBytes) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref?.();
    request.on('data', onData);
    request.on('end', finish);
    request.on('close', finish);
    request.on('error', finish);
    request.resume();
  });
}
