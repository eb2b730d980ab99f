import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './body-too-large-error.js';

/** Bytes the body stream buffers ahead of its reader before the socket is paused. */
const HIGH_WATER_MARK = 64 * 1024;

const byteLength = (chunk: Uint8Array) => chunk.byteLength;

/**
 * The body of `request` as a Web stream that pulls from the socket only as fast as it is read.
 * Passing `limit` bytes errors the stream with a {@link BodyTooLargeError}, stops reading the socket
 * and calls `onTooLarge`; the rest of the body is never read.
 */
export function streamRequestBody(
  request: IncomingMessage,
  limit: number,
  onTooLarge: () => void,
): ReadableStream<Uint8Array> {
  let received = 0;
  let settled = false;
  let detach = () => {};

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (error: unknown) => {
          if (settled) return;
          settled = true;
          detach();
          controller.error(error);
        };
        const onData = (chunk: Buffer) => {
          received += chunk.byteLength;
          if (received > limit) {
            request.pause();
            fail(new BodyTooLargeError(limit));
            onTooLarge();
            return;
          }
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 1) <= 0) request.pause();
        };
        const onEnd = () => {
          if (settled) return;
          settled = true;
          detach();
          controller.close();
        };
        // Node reports a client that went away mid-body as an 'aborted' error, or only as 'close'.
        const onClose = () =>
          fail(new DOMException('The client closed the connection while sending the body.', 'AbortError'));
        request.on('data', onData);
        request.on('end', onEnd);
        request.on('error', fail);
        request.on('close', onClose);
        detach = () => {
          request.off('data', onData);
          request.off('end', onEnd);
          request.off('error', fail);
          request.off('close', onClose);
        };
      },
      pull() {
        if (!settled) request.resume();
      },
      cancel() {
        // The reader lost interest: stop reading. The handler closes the connection after answering,
        // because the unread rest of the body still sits in front of any next request.
        settled = true;
        detach();
        request.pause();
      },
    },
    { highWaterMark: HIGH_WATER_MARK, size: byteLength },
  );
}
