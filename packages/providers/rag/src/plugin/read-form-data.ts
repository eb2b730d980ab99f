import { AbortedError, InvalidRequestError, PayloadTooLargeError } from '@fusionkit/core';

/** Where the node adapter offers a body as bytes, without a Web stream (see the core's `readJsonBody`). */
const REQUEST_BYTES = Symbol.for('@fusionkit/request-bytes');

type BytesReadable = Request & { [REQUEST_BYTES]?: (limit: number) => Promise<Uint8Array> };

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The upload is larger than the limit of ${limit} bytes.`);
}

/** The whole body, refused with 413 as soon as it passes `limit` bytes. */
async function readBytes(request: BytesReadable, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  try {
    const direct = request[REQUEST_BYTES];
    if (typeof direct === 'function') return await direct.call(request, limit);
    if (!request.body) throw new InvalidRequestError('The request has no body.');
    const reader = request.body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      parts.push(value);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    return bytes;
  } catch (error) {
    if (error instanceof PayloadTooLargeError || error instanceof InvalidRequestError) throw error;
    const { name, status } = (error ?? {}) as { name?: string; status?: number };
    // The adapter's own body limit (the orchestrator's `maxBodyBytes`) fails the read this way.
    if (name === 'PayloadTooLargeError' || status === 413) throw tooLarge(limit);
    if (request.signal.aborted) throw new AbortedError('The client closed the request while sending it.');
    throw new InvalidRequestError('The request body could not be read.', { cause: error });
  }
}

/**
 * A `multipart/form-data` body, read under `limit` bytes first (a `formData()` on the raw request
 * would buffer any size), then parsed by the runtime's own parser.
 */
export async function readFormData(request: Request, limit: number): Promise<FormData> {
  const contentType = request.headers.get('content-type') ?? '';
  const bytes = await readBytes(request, limit);
  try {
    return await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': contentType },
    }).formData();
  } catch (error) {
    throw new InvalidRequestError('The multipart body could not be parsed.', { cause: error });
  }
}
