/** Longest request id accepted from a client; longer or odd ones are replaced. */
const MAX_REQUEST_ID_LENGTH = 128;
const SAFE_REQUEST_ID = /^[\w.:@/+=-]+$/;

/** Ids whose random bytes one `getRandomValues` call draws (as Node's `randomUUID` batches them). */
const IDS_PER_DRAW = 128;
const randomBytes = new Uint8Array(16 * IDS_PER_DRAW);
let nextByte = randomBytes.length;
/** Character codes of the hex digits, by value. */
const HEX = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
const DASH = 0x2d;
/** The version nibble of a UUID v4 (RFC 9562), as a character code. */
const VERSION_4 = HEX[4]!;

/** The character code of the high hex digit of random byte `index`. */
const high = (index: number): number => HEX[randomBytes[index]! >> 4]!;
/** The character code of the low hex digit of random byte `index`. */
const low = (index: number): number => HEX[randomBytes[index]! & 15]!;

/**
 * A new request id: a random UUID v4, as `crypto.randomUUID()` makes, from Web Crypto's
 * `getRandomValues` (Node 20+, browsers, edge runtimes). Its text is made in one piece: Node 20's
 * `randomUUID` joins it from 20 pieces, ~590 bytes of garbage per id where this makes only the
 * 58-byte string, once per request.
 */
export function createRequestId(): string {
  if (nextByte === randomBytes.length) {
    globalThis.crypto.getRandomValues(randomBytes);
    nextByte = 0;
  }
  const at = nextByte;
  nextByte += 16;
  // The variant's two high bits are 10 (RFC 9562): 8, 9, a or b.
  const variant = HEX[8 | ((randomBytes[at + 8]! >> 4) & 3)]!;
  // biome-ignore format: the UUID's 8-4-4-4-12 layout
  return String.fromCharCode(
    high(at), low(at), high(at + 1), low(at + 1), high(at + 2), low(at + 2), high(at + 3), low(at + 3), DASH,
    high(at + 4), low(at + 4), high(at + 5), low(at + 5), DASH,
    VERSION_4, low(at + 6), high(at + 7), low(at + 7), DASH,
    variant, low(at + 8), high(at + 9), low(at + 9), DASH,
    high(at + 10), low(at + 10), high(at + 11), low(at + 11), high(at + 12), low(at + 12),
    high(at + 13), low(at + 13), high(at + 14), low(at + 14), high(at + 15), low(at + 15),
  );
}

/** The client's `x-request-id` when it is safe to echo and log, else a new id. */
export function requestIdFrom(header: string | null | undefined): string {
  if (header && header.length <= MAX_REQUEST_ID_LENGTH && SAFE_REQUEST_ID.test(header)) return header;
  return createRequestId();
}
