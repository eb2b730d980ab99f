import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type Reader = ReadableStreamDefaultReader<Uint8Array>;

const NOT_READY = Symbol('not ready');

/** Where the core's JSON responses keep their text (see the core's `JsonTextResponse`). */
export const RESPONSE_TEXT = Symbol.for('@fusionkit/response-text');
const noop = () => {};

/**
 * The Response's headers for node:http. `set-cookie` stays a list; hop-by-hop headers are the
 * server's business and are dropped, except a `connection: close` the application asks for.
 */
function outgoingHeaders(headers: Headers): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  let cookies: string[] | undefined;
  for (const [name, value] of headers) {
    switch (name) {
      case 'set-cookie':
        (cookies ??= []).push(value);
        break;
      case 'connection':
        if (value.toLowerCase() === 'close') result.connection = 'close';
        break;
      case 'keep-alive':
      case 'transfer-encoding':
        break;
      default:
        result[name] = value;
    }
  }
  if (cookies) result['set-cookie'] = cookies;
  return result;
}

/**
 * The read's result if it settles within a few microtasks, else NOT_READY. An in-memory body (a JSON
 * answer) is done by then; a live stream is not.
 */
function readWithoutWaiting(
  read: Promise<ReadableStreamReadResult<Uint8Array>>,
): Promise<ReadableStreamReadResult<Uint8Array> | typeof NOT_READY> {
  const notReady = Promise.resolve()
    .then(noop)
    .then((): typeof NOT_READY => NOT_READY);
  return Promise.race([read, notReady]);
}

/** Resolves on 'drain', or on 'close' when the client is gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed) return resolve();
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Writes what is left of the body, waiting for 'drain' whenever the socket's buffer is full. */
async function pipeBody(
  reader: Reader,
  response: ServerResponse,
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined,
): Promise<void> {
  let next = pending;
  while (!response.destroyed) {
    const { done, value } = await (next ?? reader.read());
    next = undefined;
    if (done || response.destroyed) break;
    // After writeHead, write() goes to the socket at once (no Nagle): each SSE event leaves as it comes.
    if (!response.write(value)) await drained(response);
  }
  if (!response.destroyed) response.end();
}

/**
 * Writes a Fetch `Response` to a node:http response: status, headers (several `set-cookie` kept),
 * then the body. An in-memory body is sent in one piece with `content-length`; a stream is written
 * chunk by chunk with backpressure, and `text/event-stream` headers go out at once (with the first event
 * when it is ready). When the
 * client goes away the body is cancelled; when the body fails mid-way the socket is destroyed so the
 * client sees a cut response, not a complete one. Resolves when the response is done; never rejects.
 */
export async function writeResponse(response: Response, outgoing: ServerResponse): Promise<void> {
  const status = response.status;
  const text = (response as { [RESPONSE_TEXT]?: unknown })[RESPONSE_TEXT];
  // Reading `body` would make a stream of a core JSON answer: look at its text first.
  const body = typeof text === 'string' ? null : response.body;
  // `Response.error()` (status 0) is a network error: there is nothing to send.
  if (status === 0) {
    body?.cancel().catch(noop);
    outgoing.destroy();
    return;
  }
  const headers = outgoingHeaders(response.headers);
  const statusText = response.statusText || undefined;
  if (typeof text === 'string') {
    // The core's JSON answers carry their text: one write, no stream to create and drain.
    if (outgoing.destroyed) return;
    headers['content-length'] = Buffer.byteLength(text);
    if (outgoing.req?.method === 'HEAD') outgoing.writeHead(status, statusText, headers).end();
    else outgoing.writeHead(status, statusText, headers).end(text);
    return;
  }
  if (
    body === null ||
    outgoing.req?.method === 'HEAD' ||
    status === 204 ||
    status === 304 ||
    status < 200 ||
    outgoing.destroyed
  ) {
    body?.cancel().catch(noop);
    if (!outgoing.destroyed) outgoing.writeHead(status, statusText, headers).end();
    return;
  }

  const reader = body.getReader();
  const onClose = () => {
    if (!outgoing.writableFinished) {
      reader.cancel(new DOMException('The client closed the connection.', 'AbortError')).catch(noop);
    }
  };
  outgoing.once('close', onClose);
  try {
    const contentType = headers['content-type'];
    if (typeof contentType === 'string' && contentType.startsWith('text/event-stream')) {
      outgoing.writeHead(status, statusText, headers);
      // The first event usually waits already (the core commits a stream at its first token): it
      // leaves with the headers in one write. Otherwise the headers go at once, alone.
      const first = reader.read();
      const ready = await readWithoutWaiting(first);
      if (ready === NOT_READY) outgoing.flushHeaders();
      await pipeBody(reader, outgoing, first);
      return;
    }
    const first = await reader.read();
    if (outgoing.destroyed) return;
    if (first.done) {
      outgoing.writeHead(status, statusText, headers).end();
      return;
    }
    const second = reader.read();
    const peeked = await readWithoutWaiting(second);
    if (peeked !== NOT_READY && peeked.done) {
      headers['content-length'] ??= first.value.byteLength;
      outgoing.writeHead(status, statusText, headers).end(first.value);
      return;
    }
    outgoing.writeHead(status, statusText, headers);
    if (!outgoing.write(first.value)) await drained(outgoing);
    await pipeBody(reader, outgoing, second);
  } catch {
    // The body failed (or a write threw). Before the head: answer 500; after: cut the connection.
    reader.cancel().catch(noop);
    if (outgoing.headersSent || outgoing.destroyed) {
      // Cut the response without its end, after what was written has left: the client sees a
      // truncated stream (destroying at once could drop the head that shares a write with it).
      const socket = outgoing.socket;
      if (socket && !socket.destroyed) socket.end();
      else outgoing.destroy();
    } else {
      const message = JSON.stringify({
        error: {
          message: 'The response body failed.',
          type: 'server_error',
          code: 'internal_error',
          param: null,
        },
      });
      const requestId = headers['x-request-id'];
      outgoing
        .writeHead(500, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(message),
          ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
        })
        .end(message);
    }
  } finally {
    outgoing.off('close', onClose);
  }
}
