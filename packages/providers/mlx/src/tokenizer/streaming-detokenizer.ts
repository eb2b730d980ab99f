/**
 * Turns tokens into text as they come, never emitting a broken multi-byte character: a token that
 * ends inside a UTF-8 sequence decodes to U+FFFD, so its text waits for the next token.
 *
 * Tokens are decoded in short segments, each with the last token of the previous one as context:
 * decoders that drop a leading space at the start of a text (SentencePiece's `▁`) see the same
 * text they would in one piece.
 */
const REPLACEMENT = '\ufffd';
/** Tokens per segment before it is committed at a clean boundary. */
const SEGMENT_TOKENS = 8;

export class StreamingDetokenizer {
  readonly #decode: (ids: number[]) => string;
  #segment: number[] = [];
  #context: number | undefined;
  #contextText = '';
  /** Text of the current segment already emitted. */
  #emitted = '';
  /** All text emitted so far. */
  text = '';

  constructor(decode: (ids: number[]) => string) {
    this.#decode = decode;
  }

  /** Adds a token; returns the text it completes (often '', never a broken character). */
  push(token: number): string {
    this.#segment.push(token);
    const segmentText = this.#segmentText();
    if (segmentText.endsWith(REPLACEMENT)) return '';
    const delta = this.#delta(segmentText);
    if (this.#segment.length >= SEGMENT_TOKENS) {
      const contextText = this.#decode([token]);
      if (!contextText.includes(REPLACEMENT)) {
        this.#context = token;
        this.#contextText = contextText;
        this.#segment = [];
        this.#emitted = '';
      }
    }
    return delta;
  }

  /** What is left at the end of generation (an incomplete character shows as U+FFFD). */
  flush(): string {
    if (this.#segment.length === 0) return '';
    const delta = this.#delta(this.#segmentText());
    this.#segment = [];
    this.#emitted = '';
    return delta;
  }

  #segmentText(): string {
    if (this.#context === undefined) return this.#decode(this.#segment);
    const full = this.#decode([this.#context, ...this.#segment]);
    return full.startsWith(this.#contextText) ? full.slice(this.#contextText.length) : full;
  }

  #delta(segmentText: string): string {
    let common = 0;
    if (segmentText.startsWith(this.#emitted)) common = this.#emitted.length;
    else while (common < this.#emitted.length && segmentText[common] === this.#emitted[common]) common++;
    const delta = segmentText.slice(common);
    this.#emitted = segmentText;
    this.text += delta;
    return delta;
  }
}
