import { StringDecoder } from 'node:string_decoder';
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
   * Largest event the parser buffers: all its lines plus an unterminated line, without line ends,
   * counted in UTF-16 code units of the decoded text. That is the byte count for ASCII text and
   * never more than it, so an event is only dropped when it has more bytes than this; an event of
   * non-ASCII text may take up to 3× this many bytes on the wire, and at most 2 bytes per unit in
   * memory. A larger event throws an {@link UpstreamError} instead of growing memory without bound.
   * @default 8388608 (8 Mi)
   */
  maxEventBytes?: number;
}

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = 0xfeff;
/**
 * The longest field name the parser knows (`event`): a line with no `:` within its first
 * `MAX_FIELD_NAME + 1` characters has an unknown name and is ignored without scanning it further.
 */
const MAX_FIELD_NAME = 5;
const NO_EVENTS: SseEvent[] = [];

/**
 * Incremental parser of a `text/event-stream` body (WHATWG HTML, "server-sent events").
 *
 * Feed it the body's chunks as they arrive, split at any byte. Each chunk is decoded to a string
 * once (a chunk that ends with a non-ASCII byte, and the one after it, through a `StringDecoder`,
 * which holds back an incomplete UTF-8 sequence, so a character split across chunks is decoded
 * whole); lines are then found with `String.prototype.indexOf` and sliced, and an unterminated
 * line is kept as a string. Accepts `\n`, `\r\n` and `\r` line ends (also a `\r\n` split across
 * chunks), comments, multi-line `data:` and a BOM at the start of the stream.
 */
export class SseParser {
  readonly #maxEventUnits: number;
  /** Decodes the chunks that end with a non-ASCII byte, and the chunk after each of them. */
  readonly #decoder = new StringDecoder('utf8');
  /**
   * The decoder may hold the first bytes of a character: the last chunk it decoded ended with a
   * non-ASCII byte. Otherwise a chunk that ends with an ASCII byte is decoded by itself, which
   * costs less than going through the decoder.
   */
  #decoderMayHold = false;
  /** The current, unterminated line. */
  #partial = '';
  /** UTF-16 code units of the complete lines of the current event. */
  #eventUnits = 0;
  #data: string | undefined;
  #event: string | undefined;
  #id: string | undefined;
  /** The text decoded so far ended with `\r`: a `\n` starting the next text belongs to it. */
  #skipLeadingLf = false;
  #firstLine = true;

  constructor(options: SseParserOptions = {}) {
    this.#maxEventUnits = options.maxEventBytes ?? 8 * 1024 * 1024;
  }

  /** Parses one chunk; returns the events it completed (often none). */
  push(chunk: Buffer): SseEvent[] {
    const bytes = chunk.length;
    if (bytes === 0) return NO_EVENTS;
    let text: string;
    if (!this.#decoderMayHold && chunk[bytes - 1]! < 0x80) {
      // The usual chunk: nothing held back and it ends with an ASCII byte (so with a whole character).
      text = chunk.toString();
    } else {
      text = this.#decoder.write(chunk);
      this.#decoderMayHold = chunk[bytes - 1]! >= 0x80;
    }
    const length = text.length;
    // Only the start of a character, held back by the decoder: nothing to parse yet.
    if (length === 0) return NO_EVENTS;
    let start = 0;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let events: SseEvent[] | undefined;
    // The next `\r` and `\n`, each searched again only once passed: linear also when one never comes.
    let cr = text.indexOf('\r', start);
    let lf = text.indexOf('\n', start);
    while (start < length) {
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === length) {
          next = length;
          this.#skipLeadingLf = true;
        } else {
          next = lf === cr + 1 ? cr + 2 : cr + 1;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      let event: SseEvent | undefined;
      if (this.#partial.length === 0) {
        event = this.#line(text, start, end);
      } else {
        const line = this.#partial + text.slice(start, end);
        this.#partial = '';
        event = this.#line(line, 0, line.length);
      }
      // A literal for the usual one event per chunk: `push` onto `[]` reserves room for 17.
      if (event !== undefined) {
        if (events === undefined) events = [event];
        else events.push(event);
      }
      start = next;
    }
    if (start < length) {
      const partial = this.#partial + (start === 0 ? text : text.slice(start));
      this.#partial = partial;
      this.#checkSize(this.#eventUnits + partial.length);
    }
    return events ?? NO_EVENTS;
  }

  /**
   * Ends the stream: an unterminated last line is taken as complete and a pending event is
   * dispatched (lenient: servers sometimes omit the final blank line). An incomplete UTF-8
   * character at the very end becomes U+FFFD.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const line = this.#decoderMayHold ? this.#partial + this.#decoder.end() : this.#partial;
    this.#partial = '';
    if (line.length > 0) {
      const event = this.#line(line, 0, line.length);
      if (event !== undefined) events.push(event);
    }
    const last = this.#dispatch();
    if (last !== undefined) events.push(last);
    return events;
  }

  /** One complete line, `text` from `start` to `end` (without its line end). */
  #line(text: string, start: number, end: number): SseEvent | undefined {
    if (this.#firstLine) {
      this.#firstLine = false;
      if (start < end && text.charCodeAt(start) === BOM) start++;
    }
    if (start === end) return this.#dispatch();
    this.#checkSize(this.#eventUnits + (end - start));
    this.#eventUnits += end - start;
    const first = text.charCodeAt(start);
    if (first === COLON) return undefined;

    // The usual line, `data: …`, without looking for the colon.
    if (
      first === 0x64 &&
      end - start >= 4 &&
      text.charCodeAt(start + 1) === 0x61 &&
      text.charCodeAt(start + 2) === 0x74 &&
      text.charCodeAt(start + 3) === 0x61
    ) {
      const afterName = start + 4;
      if (afterName === end) return this.#addData('');
      if (text.charCodeAt(afterName) === COLON) {
        let valueStart = afterName + 1;
        if (valueStart < end && text.charCodeAt(valueStart) === SPACE) valueStart++;
        return this.#addData(valueStart < end ? text.slice(valueStart, end) : '');
      }
    }

    let colon = start;
    const nameLimit = Math.min(end, start + MAX_FIELD_NAME + 1);
    while (colon < nameLimit && text.charCodeAt(colon) !== COLON) colon++;
    if (colon === nameLimit && colon !== end) return undefined;
    let valueStart = colon + 1;
    if (valueStart < end && text.charCodeAt(valueStart) === SPACE) valueStart++;
    const value = valueStart < end ? text.slice(valueStart, end) : '';
    // (`data` lines were all read above.)
    const field = text.slice(start, colon);
    if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }

  #addData(value: string): undefined {
    this.#data = this.#data === undefined ? value : this.#data + '\n' + value;
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const data = this.#data;
    const event = this.#event;
    this.#data = undefined;
    this.#event = undefined;
    this.#eventUnits = 0;
    if (data === undefined) return undefined;
    return { data, event, id: this.#id };
  }

  /**
   * Throws when the event would pass the limit. The message may say bytes: every UTF-16 code unit
   * comes from at least one byte of UTF-8, so an event over the limit in units is over it in bytes.
   */
  #checkSize(units: number): void {
    if (units <= this.#maxEventUnits) return;
    this.#partial = '';
    this.#data = undefined;
    this.#eventUnits = 0;
    throw new UpstreamError(
      `The upstream sent a stream event larger than ${this.#maxEventUnits} bytes; it was dropped.`,
      { isRetryable: false },
    );
  }
}
