import {
  RecursiveCharacterSplitter,
  type RecursiveCharacterSplitterOptions,
} from './recursive-character-splitter.js';
import type { TextChunk, TextSplitter } from './text-splitter.js';

export interface MarkdownSplitterOptions extends RecursiveCharacterSplitterOptions {
  /** Deepest heading level that starts a new section. @default 6 */
  maxHeadingLevel?: number;
}

/** Markdown-friendly cut points, tried before the generic ones. */
export const MARKDOWN_SEPARATORS: readonly string[] = [
  '\n```\n',
  '\n\n',
  '\n- ',
  '\n* ',
  '\n',
  '. ',
  '? ',
  '! ',
  '; ',
  ', ',
  ' ',
  '',
];

interface Section {
  start: number;
  end: number;
  headings: string[];
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Splits Markdown at ATX headings (`#` … `######`, never inside fenced code), then splits each section
 * like {@link RecursiveCharacterSplitter}. Every chunk carries its heading trail in
 * `metadata.headings`, e.g. `['Guide', 'Install', 'Linux']`; chunks never straddle two sections.
 */
export class MarkdownSplitter implements TextSplitter {
  readonly #sections: RecursiveCharacterSplitter;
  readonly #maxLevel: number;

  constructor(options: MarkdownSplitterOptions = {}) {
    this.#sections = new RecursiveCharacterSplitter({ separators: MARKDOWN_SEPARATORS, ...options });
    this.#maxLevel = options.maxHeadingLevel ?? 6;
  }

  split(text: string): TextChunk[] {
    const chunks: TextChunk[] = [];
    for (const section of this.sections(text)) {
      for (const chunk of this.#sections.splitRange(text, section.start, section.end)) {
        chunks.push({ ...chunk, metadata: { ...chunk.metadata, headings: section.headings } });
      }
    }
    return chunks;
  }

  /** The sections of a Markdown text: each heading starts one, which runs to the next heading. */
  sections(text: string): Section[] {
    const sections: Section[] = [];
    const trail: { level: number; title: string }[] = [];
    let sectionStart = 0;
    let fence: string | undefined;
    let offset = 0;
    const close = (end: number) => {
      if (end > sectionStart)
        sections.push({ start: sectionStart, end, headings: trail.map((entry) => entry.title) });
    };
    while (offset <= text.length) {
      const newline = text.indexOf('\n', offset);
      const lineEnd = newline === -1 ? text.length : newline;
      const line = text.slice(offset, lineEnd);
      const fenceMatch = FENCE.exec(line);
      if (fenceMatch) {
        const marker = fenceMatch[1]!;
        if (fence === undefined) fence = marker;
        else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      } else if (fence === undefined) {
        const heading = HEADING.exec(line);
        if (heading && heading[1]!.length <= this.#maxLevel) {
          close(offset);
          const level = heading[1]!.length;
          while (trail.length > 0 && trail[trail.length - 1]!.level >= level) trail.pop();
          trail.push({ level, title: heading[2]!.trim() });
          sectionStart = offset;
        }
      }
      if (newline === -1) break;
      offset = newline + 1;
    }
    close(text.length);
    return sections;
  }
}
