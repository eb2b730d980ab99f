import { UpstreamError } from '@fusionkit/core';

/** One server-sent event. */
export interface SseEvent {
  /** The event's `data` lines, joined by `\n`. */
  data: string;
  /** The `event` field; `undefined` for the default `message` type. */
  event: string | undefined;
  /** The last `id` field seen in the stream, when there was one. */
  id: string | undefined;
}

/** Options of {@link SseParser}. */
export interface SseParserOptions {
  /**
   * Largest event the parser buffers, in bytes (all its lines, plus an unterminated line). A larger
   * event throws an {@link UpstreamError} instead of growing memory without bound.
   * @default 8388608 (8 MiB)
   */
  maxEventBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
/** Field names of the SSE format are at most 5 bytes; a longer name is unknown and ignored. */
const MAX_FIELD_NAME_BYTES = 16;
const NO_EVENTS: SseEvent[] = [];

/**
 * Incremental parser of a `text/event-stream` body (WHATWG HTML, "server-sent events").
 *
 * Feed it the body's chunks as they arrive, split at any byte: it keeps unterminated lines as
 * bytes and decodes complete lines only, so a multi-byte UTF-8 character split across chunks is
 * decoded whole. Accepts `\n`, `\r\n` and `\r` line ends, comments, multi-line `data:` and a
 * leading BOM. Line ends are found with `Buffer.indexOf`, not a per-byte loop.
 */
export class SseParser {
  readonly #maxEventBytes: number;
  /** Bytes of the current, unterminated line, as they arrived. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** Bytes of the complete lines of the current event. */
  #eventBytes = 0;
  #data: string | undefined;
  #event: string | undefined;
  #id: string | undefined;
  /** The previous chunk ended with `\r`: a `\n` at the start of the next one belongs to it. */
  #skipLeadingLf = false;
  #firstLine = true;

  constructor(options: SseParserOptions = {}) {
    this.#maxEventBytes = options.maxEventBytes ?? 8 * 1024 * 1024;
  }

  /** Parses one chunk; returns the events it completed (often none). */
  push(chunk: Buffer): SseEvent[] {
    const length = chunk.length;
    let start = 0;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (length > 0 && chunk[0] === LF) start = 1;
    }
    let events: SseEvent[] | undefined;
    let nextCr = chunk.indexOf(CR, start);
    while (start < length) {
      const lf = chunk.indexOf(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = chunk.indexOf(CR, start);
      let end: number;
      let next: number;
      if (nextCr !== -1 && (lf === -1 || nextCr < lf)) {
        end = nextCr;
        if (nextCr + 1 === length) {
          next = length;
          this.#skipLeadingLf = true;
        } else {
          next = chunk[nextCr + 1] === LF ? nextCr + 2 : nextCr + 1;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      const event = this.#completeLine(chunk, start, end);
      // A literal for the usual one event per chunk: `push` onto `[]` reserves room for 17.
      if (event !== undefined) {
        if (events === undefined) events = [event];
        else events.push(event);
      }
      start = next;
    }
    if (start < length) this.#appendPartial(chunk, start);
    return events ?? NO_EVENTS;
  }

  /**
   * Ends the stream: an unterminated last line is taken as complete and a pending event is
   * dispatched (lenient: servers sometimes omit the final blank line).
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.#partialBytes > 0) {
      const event = this.#completeLine(Buffer.alloc(0), 0, 0);
      if (event !== undefined) events.push(event);
    }
    const last = this.#dispatch();
    if (last !== undefined) events.push(last);
    return events;
  }

  #appendPartial(chunk: Buffer, start: number): void {
    const part = start === 0 ? chunk : chunk.subarray(start);
    this.#partial.push(part);
    this.#partialBytes += part.length;
    this.#checkSize(this.#eventBytes + this.#partialBytes);
  }

  #completeLine(chunk: Buffer, start: number, end: number): SseEvent | undefined {
    if (this.#partialBytes === 0) return this.#line(chunk, start, end);
    const parts = this.#partial;
    if (end > start) parts.push(chunk.subarray(start, end));
    const line = Buffer.concat(parts, this.#partialBytes + (end - start));
    this.#partial = [];
    this.#partialBytes = 0;
    return this.#line(line, 0, line.length);
  }

  #line(buffer: Buffer, start: number, end: number): SseEvent | undefined {
    if (this.#firstLine) {
      this.#firstLine = false;
      if (
        end - start >= 3 &&
        buffer[start] === 0xef &&
        buffer[start + 1] === 0xbb &&
        buffer[start + 2] === 0xbf
      ) {
        start += 3;
      }
    }
    if (start === end) return this.#dispatch();
    this.#eventBytes += end - start;
    this.#checkSize(this.#eventBytes);
    if (buffer[start] === COLON) return undefined;

    let colon = start;
    const nameLimit = Math.min(end, start + MAX_FIELD_NAME_BYTES);
    while (colon < nameLimit && buffer[colon] !== COLON) colon++;
    if (colon === nameLimit && colon !== end) return undefined;
    let valueStart = colon + 1;
    if (valueStart < end && buffer[valueStart] === SPACE) valueStart++;
    const value = valueStart < end ? buffer.toString('utf8', valueStart, end) : '';

    if (
      colon - start === 4 &&
      buffer[start] === 0x64 &&
      buffer[start + 1] === 0x61 &&
      buffer[start + 2] === 0x74 &&
      buffer[start + 3] === 0x61
    ) {
      this.#data = this.#data === undefined ? value : this.#data + '\n' + value;
      return undefined;
    }
    const field = buffer.toString('latin1', start, colon);
    if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const data = this.#data;
    const event = this.#event;
    this.#data = undefined;
    this.#event = undefined;
    this.#eventBytes = 0;
    if (data === undefined) return undefined;
    return { data, event, id: this.#id };
  }

  #checkSize(bytes: number): void {
    if (bytes <= this.#maxEventBytes) return;
    this.#partial = [];
    this.#partialBytes = 0;
    this.#data = undefined;
    this.#eventBytes = 0;
    throw new UpstreamError(
      `The upstream sent a stream event larger than ${this.#maxEventBytes} bytes; it was dropped.`,
      { isRetryable: false },
    );
  }
}
