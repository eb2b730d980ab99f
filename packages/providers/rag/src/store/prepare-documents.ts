import { InvalidRequestError } from '@fusionkit/core';
import { loadDocuments } from '../loaders/load-document.js';
import type { SourceDocument } from '../sources/ingest-source.js';
import type { DocumentInput } from './records.js';

/**
 * Runs the loader of a raw source document: one document, or one per record of a JSON array or
 * JSON-lines file (id `<source id>#<record id>`, or `#<line index>` without one).
 */
export async function prepareDocuments(source: SourceDocument): Promise<DocumentInput[]> {
  const common = {
    ...(source.uri ? { uri: source.uri } : {}),
    ...(source.title ? { title: source.title } : {}),
  };
  if (source.text !== undefined && (source.format === undefined || source.format === 'text')) {
    return [
      {
        ...common,
        id: source.id,
        text: source.text,
        format: source.format ?? 'text',
        metadata: source.metadata ?? {},
      },
    ];
  }
  const bytes = source.bytes ?? new TextEncoder().encode(source.text ?? '');
  const loaded = await loadDocuments(bytes, {
    ...(source.format ? { format: source.format } : {}),
    ...(source.uri ? { uri: source.uri } : {}),
    ...(source.mimeType ? { mimeType: source.mimeType } : {}),
    ...(source.json ? { json: source.json } : {}),
  });
  const many = loaded.length !== 1 || loaded[0]!.format === 'json' || loaded[0]!.format === 'jsonl';
  return loaded.map((document, index) => ({
    ...common,
    id: many ? `${source.id}#${document.recordId ?? index}` : source.id,
    text: document.text,
    format: document.format,
    metadata: { ...document.metadata, ...source.metadata },
    ...(document.pageStarts ? { pageStarts: document.pageStarts } : {}),
    ...(document.title || source.title ? { title: source.title ?? document.title } : {}),
  }));
}

/** Checks a document given in code or through the API; a 400 names the bad field. */
export function validateDocument(input: DocumentInput, index: number): void {
  const where = `documents[${index}]`;
  if (typeof input?.id !== 'string' || input.id.length === 0 || input.id.length > 2048) {
    throw new InvalidRequestError(`${where}.id must be a string of 1 to 2048 characters`, {
      param: `${where}.id`,
    });
  }
  if (typeof input.text !== 'string') {
    throw new InvalidRequestError(`${where}.text must be a string`, { param: `${where}.text` });
  }
  if (
    input.metadata !== undefined &&
    (typeof input.metadata !== 'object' || input.metadata === null || Array.isArray(input.metadata))
  ) {
    throw new InvalidRequestError(`${where}.metadata must be an object`, { param: `${where}.metadata` });
  }
}
