import { UnsupportedMediaTypeError } from '@fusionkit/core';
import { loadHtml } from './html-loader.js';
import { loadJson, loadJsonLines } from './json-loader.js';
import type { DocumentFormat, LoadedDocument, LoadOptions } from './loaded-document.js';
import { loadMarkdown } from './markdown-loader.js';
import { loadPdf } from './pdf-loader.js';
import { loadText } from './text-loader.js';

const BY_MIME_TYPE: Record<string, DocumentFormat> = {
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/json': 'json',
  'application/jsonl': 'jsonl',
  'application/x-ndjson': 'jsonl',
  'application/jsonlines': 'jsonl',
};

const BY_EXTENSION: Record<string, DocumentFormat> = {
  txt: 'text',
  text: 'text',
  log: 'text',
  csv: 'text',
  rst: 'text',
  md: 'markdown',
  markdown: 'markdown',
  mdx: 'markdown',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
  json: 'json',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
};

/** File extensions with a loader, for folder globs. */
export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(BY_EXTENSION);

/**
 * The format of a document: the explicit one, else its MIME type (unless generic), else its
 * extension, else plain text. Unknown binary content is refused later, by the text decoder.
 */
export function detectFormat(options: Pick<LoadOptions, 'format' | 'uri' | 'mimeType'>): DocumentFormat {
  if (options.format) return options.format;
  const mimeType = options.mimeType?.split(';')[0]?.trim().toLowerCase();
  if (mimeType && BY_MIME_TYPE[mimeType]) return BY_MIME_TYPE[mimeType];
  if (options.uri) {
    const path = options.uri.replace(/[?#].*$/, '');
    const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
    if (extension && BY_EXTENSION[extension]) return BY_EXTENSION[extension];
  }
  if (mimeType && !mimeType.startsWith('text/') && mimeType !== 'application/octet-stream') {
    throw new UnsupportedMediaTypeError(`No loader for '${mimeType}'`, { code: 'unsupported_document_type' });
  }
  return 'text';
}

/** Parses bytes into one document, or several for JSON arrays and JSON lines. */
export async function loadDocuments(bytes: Uint8Array, options: LoadOptions = {}): Promise<LoadedDocument[]> {
  const format = detectFormat(options);
  switch (format) {
    case 'markdown':
      return [loadMarkdown(bytes)];
    case 'html':
      return [loadHtml(bytes)];
    case 'pdf':
      return [await loadPdf(bytes)];
    case 'json':
      return loadJson(bytes, options.json);
    case 'jsonl':
      return loadJsonLines(bytes, options.json);
    default:
      return [loadText(bytes)];
  }
}
