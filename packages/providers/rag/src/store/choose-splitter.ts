import type { DocumentFormat } from '../loaders/loaded-document.js';
import { MarkdownSplitter } from '../splitters/markdown-splitter.js';
import { RecursiveCharacterSplitter } from '../splitters/recursive-character-splitter.js';
import type { TextSplitter } from '../splitters/text-splitter.js';
import { TokenSplitter } from '../splitters/token-splitter.js';
import type { CollectionOptions } from './collection-options.js';
import type { SplitterConfig } from './records.js';

/**
 * The splitter of each document format: the one given in code when it returns one, else the
 * configured kind (`auto`: Markdown and HTML split at headings, the rest recursively). Configured
 * splitters are built once per collection.
 */
export function chooseSplitter(
  config: SplitterConfig,
  custom: CollectionOptions['splitter'],
): (format: DocumentFormat) => TextSplitter {
  const built = new Map<'markdown' | 'recursive' | 'token', TextSplitter>();
  const { kind, chunkSize, chunkOverlap, tokenizer } = config;
  return (format) => {
    const chosen = typeof custom === 'function' ? custom(format) : custom;
    if (chosen) return chosen;
    const key =
      kind === 'token'
        ? 'token'
        : kind === 'markdown' || (kind === 'auto' && (format === 'markdown' || format === 'html'))
          ? 'markdown'
          : 'recursive';
    let splitter = built.get(key);
    if (!splitter) {
      splitter =
        key === 'token'
          ? new TokenSplitter({ chunkSize, chunkOverlap, ...(tokenizer ? { tokenizer } : {}) })
          : key === 'markdown'
            ? new MarkdownSplitter({ chunkSize, chunkOverlap })
            : new RecursiveCharacterSplitter({ chunkSize, chunkOverlap });
      built.set(key, splitter);
    }
    return splitter;
  };
}
