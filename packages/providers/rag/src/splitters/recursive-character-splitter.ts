import { InvalidRequestError } from '@fusionkit/core';
import type { SplitterSizeOptions, TextChunk, TextSplitter } from './text-splitter.js';

export interface RecursiveCharacterSplitterOptions extends SplitterSizeOptions {
  /** Tried in order: text is cut at the first one found, pieces still too big at the next ones. */
  separators?: readonly string[];
  /** Size of a piece of text. @default the number of characters */
  lengthFunction?: (text: string) => number;
}

/** Paragraphs, lines, sentences, clauses, words, then characters. */
export const DEFAULT_SEPARATORS: readonly string[] = ['\n\n', '\n', '. ', '? ', '! ', '; ', ', ', ' ', ''];

interface Piece {
  start: number;
  end: number;
  size: number;
}

/**
 * Splits at the coarsest separator that yields pieces no bigger than `chunkSize`, then packs
 * neighbouring pieces into chunks of at most `chunkSize`, each starting with up to `chunkOverlap`
 * of the previous chunk's tail. Works on offsets, so every chunk keeps its span in the source.
 */
export class RecursiveCharacterSplitter implements TextSplitter {
  readonly chunkSize: number;
  readonly chunkOverlap: number;
  readonly separators: readonly string[];
  readonly #length: ((text: string) => number) | undefined;

  constructor(options: RecursiveCharacterSplitterOptions = {}) {
    this.chunkSize = options.chunkSize ?? 1000;
    this.chunkOverlap = options.chunkOverlap ?? Math.min(200, Math.floor(this.chunkSize / 5));
    if (!(this.chunkSize >= 1))
      throw new InvalidRequestError('chunkSize must be at least 1', { param: 'chunkSize' });
    if (!(this.chunkOverlap >= 0 && this.chunkOverlap < this.chunkSize)) {
      throw new InvalidRequestError('chunkOverlap must be at least 0 and below chunkSize', {
        param: 'chunkOverlap',
      });
    }
    this.separators = options.separators ?? DEFAULT_SEPARATORS;
    this.#length = options.lengthFunction;
  }

  split(text: string): TextChunk[] {
    return this.splitRange(text, 0, text.length);
  }

  /** Splits `text.slice(start, end)`, reporting offsets in `text`. */
  splitRange(text: string, start: number, end: number): TextChunk[] {
    const pieces: Piece[] = [];
    this.#cut(text, start, end, 0, pieces);
    return this.#pack(text, pieces);
  }

  #size(text: string, start: number, end: number): number {
    return this.#length ? this.#length(text.slice(start, end)) : end - start;
  }

  /** Appends to `pieces` the ranges of `[start, end)`, each within `chunkSize` where any separator allows. */
  #cut(text: string, start: number, end: number, separatorIndex: number, pieces: Piece[]): void {
    const size = this.#size(text, start, end);
    if (size <= this.chunkSize) {
      if (end > start) pieces.push({ start, end, size });
      return;
    }
    let index = separatorIndex;
    while (index < this.separators.length - 1 && !this.#contains(text, start, end, this.separators[index]!))
      index++;
    const separator = this.separators[index] ?? '';
    if (separator === '') {
      this.#hardCut(text, start, end, pieces);
      return;
    }
    let from = start;
    while (from < end) {
      const found = text.indexOf(separator, from);
      // The separator stays with the piece before it, so pieces tile the range exactly.
      const to = found === -1 || found + separator.length > end ? end : found + separator.length;
      this.#cut(text, from, to, index + 1, pieces);
      from = to;
    }
  }

  #contains(text: string, start: number, end: number, separator: string): boolean {
    if (separator === '') return true;
    const found = text.indexOf(separator, start);
    return found !== -1 && found + separator.length <= end;
  }

  /** No separator left: cut at the longest prefixes that fit (binary search when sizes are not characters). */
  #hardCut(text: string, start: number, end: number, pieces: Piece[]): void {
    let from = start;
    while (from < end) {
      let low = from + 1;
      let high = Math.min(end, from + (this.#length ? end - from : this.chunkSize));
      while (low < high) {
        const middle = Math.ceil((low + high) / 2);
        if (this.#size(text, from, middle) <= this.chunkSize) low = middle;
        else high = middle - 1;
      }
      pieces.push({ start: from, end: low, size: this.#size(text, from, low) });
      from = low;
    }
  }

  /** Greedy packing with overlap carried over from the tail of the previous chunk. */
  #pack(text: string, pieces: Piece[]): TextChunk[] {
    const chunks: TextChunk[] = [];
    const window: Piece[] = [];
    let windowSize = 0;
    const emit = () => {
      if (window.length === 0) return;
      const chunk = trimmed(text, window[0]!.start, window[window.length - 1]!.end);
      if (chunk && chunk.start !== chunks[chunks.length - 1]?.start) chunks.push(chunk);
    };
    for (const piece of pieces) {
      if (windowSize + piece.size > this.chunkSize && window.length > 0) {
        emit();
        while (
          window.length > 0 &&
          (windowSize > this.chunkOverlap || windowSize + piece.size > this.chunkSize)
        ) {
          windowSize -= window.shift()!.size;
        }
      }
      window.push(piece);
      windowSize += piece.size;
    }
    emit();
    return chunks;
  }
}

/** The range without leading and trailing whitespace, or undefined when nothing is left. */
function trimmed(text: string, start: number, end: number): TextChunk | undefined {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return end > start ? { text: text.slice(start, end), start, end } : undefined;
}
