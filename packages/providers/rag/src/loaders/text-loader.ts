import { UnsupportedMediaTypeError } from '@fusionkit/core';
import type { LoadedDocument } from './loaded-document.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: false });

/**
 * Decodes UTF-8 text (dropping a byte-order mark and normalising line ends to `\n`). Bytes with a NUL
 * in their first 8 KiB are binary, not text: 415.
 */
export function decodeText(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) {
    throw new UnsupportedMediaTypeError(
      'This file looks binary; supported: text, Markdown, HTML, PDF, JSON',
      {
        code: 'unsupported_document_type',
      },
    );
  }
  return decoder.decode(bytes).replace(/\r\n?/g, '\n');
}

/** Plain text: the bytes decoded, nothing removed. */
export function loadText(bytes: Uint8Array): LoadedDocument {
  return { text: decodeText(bytes), format: 'text', metadata: {} };
}
