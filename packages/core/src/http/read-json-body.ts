import { AbortedError } from '../errors/aborted-error.js';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large-error.js';

/**
 * Where a request may offer its body as bytes, read straight from the socket under the limit:
 * creating and draining a Web stream costs more than the rest of a small request on Node 20.
 */
export const REQUEST_BYTES = Symbol.for('@fusionkit/request-bytes');

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes.`);
}

/**
 * The whole body of a request as bytes, refused with 413 as soon as it passes `limit` (at once when
 * `content-length` says so, before reading anything). Takes the node adapter's socket bytes when
 * offered ({@link REQUEST_BYTES}), else reads the Web stream under the limit. Not `async`: the read's
 * own promise is passed on, with one more only to translate a failure.
 */
export function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  let read: Promise<Uint8Array>;
  try {
    const direct = (request as BytesReadable)[REQUEST_BYTES];
    read = typeof direct === 'function' ? direct.call(request, limit) : readStream(request, limit);
  } catch (error) {
    read = Promise.reject(error);
  }
  return read.then(undefined, (error: unknown) => {
    throw readFailure(error, request, limit);
  });
}

/** What a failed body read is answered with. */
function readFailure(error: unknown, request: Request, limit: number): Error {
  if (error instanceof PayloadTooLargeError || error instanceof InvalidRequestError) return error;
  const { name, status } = (error ?? {}) as { name?: string; status?: number };
  // The node adapter errors the body this way when a chunked body passes the limit.
  if (name === 'PayloadTooLargeError' || status === 413) return tooLarge(limit);
  if (request.signal.aborted) return new AbortedError('The client closed the request while sending it.');
  return new InvalidRequestError('The request body could not be read.', { cause: error });
}

/** Reads and parses a JSON body under `limit` bytes (see {@link readBodyBytes}). */
export function readJsonBody(request: Request, limit: number): Promise<unknown> {
  return readBodyBytes(request, limit).then(parseJsonBytes);
}

/** Strict UTF-8: a body that is not is refused, not repaired. Stateless between `decode` calls. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new InvalidRequestError('The request body is empty; send a JSON object.');

  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new InvalidRequestError('The request body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  // JSON.parse takes any depth, but serialising it again (every provider does) overflows the stack.
  if (nestedDeeperThan(value, MAX_DEPTH)) {
    throw new InvalidRequestError(`The request body is nested more than ${MAX_DEPTH} levels deep.`);
  }
  return value;
}

/** Deepest nesting of arrays and objects a body may have. */
const MAX_DEPTH = 128;

function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, levels - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (nestedDeeperThan((value as Record<string, unknown>)[key], levels - 1)) return true;
  }
  return false;
}

/** A request that can hand over its body bytes without a Web stream (the node adapter's do). */
type BytesReadable = Request & { [REQUEST_BYTES]?: (limit: number) => Promise<Uint8Array> };

/** The whole body of a Web stream, at most `limit` bytes. */
async function readStream(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) throw new InvalidRequestError('The request has no body.');
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : concat(parts, size);
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
