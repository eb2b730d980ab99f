import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './body-too-large-error.js';

/**
 * The whole body of `request` as one buffer, read straight from the socket. Passing `limit` bytes
 * rejects with a {@link BodyTooLargeError}, stops reading and calls `onTooLarge`; a client that goes
 * away mid-body rejects with an AbortError.
 */
export function readRequestBytes(
  request: IncomingMessage,
  limit: number,
  onTooLarge: () => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const detach = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        detach();
        request.pause();
        onTooLarge();
        reject(new BodyTooLargeError(limit));
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      detach();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onError = (error: Error) => {
      detach();
      reject(error);
    };
    // Node reports a client that went away mid-body as an 'aborted' error, or only as 'close'.
    const onClose = () => {
      detach();
      reject(new DOMException('The client closed the connection while sending the body.', 'AbortError'));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}
