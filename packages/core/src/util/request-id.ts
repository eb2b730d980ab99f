/** Longest request id accepted from a client; longer or odd ones are replaced. */
const MAX_REQUEST_ID_LENGTH = 128;
const SAFE_REQUEST_ID = /^[\w.:@/+=-]+$/;

/** A new request id (UUID v4 from Web Crypto, available in Node 20+, browsers and edge runtimes). */
export function createRequestId(): string {
  return globalThis.crypto.randomUUID();
}

/** The client's `x-request-id` when it is safe to echo and log, else a new id. */
export function requestIdFrom(header: string | null | undefined): string {
  if (header && header.length <= MAX_REQUEST_ID_LENGTH && SAFE_REQUEST_ID.test(header)) return header;
  return createRequestId();
}
