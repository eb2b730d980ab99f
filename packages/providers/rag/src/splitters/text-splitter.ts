/** A piece of a document, with where it came from. */
export interface TextChunk {
  /** The chunk's text: exactly `documentText.slice(start, end)`. */
  text: string;
  /** Offset of the first character in the document text. */
  start: number;
  /** Offset after the last character. */
  end: number;
  /** What the splitter knows about the chunk. @example { headings: ['Guide', 'Install'] } */
  metadata?: Record<string, unknown>;
}

/** Cuts a document's text into chunks; overlapping chunks share text at their edges. */
export interface TextSplitter {
  split(text: string): TextChunk[];
}

/** Options every splitter takes. */
export interface SplitterSizeOptions {
  /** Largest chunk, in the splitter's unit (characters, or tokens for the token splitter). @default 1000 */
  chunkSize?: number;
  /** How much of the end of a chunk the next one repeats, same unit. @default 200 */
  chunkOverlap?: number;
}
