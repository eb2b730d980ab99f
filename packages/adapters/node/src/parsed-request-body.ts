import type { IncomingMessage } from 'node:http';

/** A request body that a framework read from the stream before the adapter got the request. */
export interface ParsedRequestBody {
  body: BodyInit;
}

/**
 * The body a framework already consumed: `rawBody` (Firebase, `verify` hooks) or `body` (Express and
 * Connect body parsers). Bytes and strings pass as they are; a parsed object goes back to JSON.
 */
export function parsedRequestBody(request: IncomingMessage): ParsedRequestBody | undefined {
  const { rawBody, body } = request as IncomingMessage & { rawBody?: unknown; body?: unknown };
  // Node's Buffers are `Uint8Array<ArrayBufferLike>`, which Fetch takes as it takes any view.
  if (rawBody instanceof Uint8Array) return { body: rawBody as Uint8Array<ArrayBuffer> };
  if (body instanceof Uint8Array) return { body: body as Uint8Array<ArrayBuffer> };
  if (typeof body === 'string') return { body };
  if (body !== undefined && body !== null) return { body: JSON.stringify(body) };
  return undefined;
}
