import { InvalidRequestError } from '@fusionkit/core';
import type { JsonLoaderOptions, LoadedDocument } from './loaded-document.js';
import { decodeText } from './text-loader.js';

function valueAt(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function toDocument(
  record: unknown,
  where: string,
  options: JsonLoaderOptions,
  format: 'json' | 'jsonl',
): LoadedDocument {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new InvalidRequestError(`${where} is not a JSON object`, { code: 'invalid_document' });
  }
  const fields = record as Record<string, unknown>;
  const textFields = [options.textField ?? 'text'].flat();
  const parts = textFields
    .map((field) => valueAt(fields, field))
    .filter((value) => value !== undefined && value !== null);
  if (parts.length === 0 || parts.some((part) => typeof part !== 'string')) {
    throw new InvalidRequestError(`${where} has no string field '${textFields.join("', '")}'`, {
      code: 'invalid_document',
      param: 'json.textField',
    });
  }
  const idField = options.idField ?? ['id', '_id'].find((field) => fields[field] !== undefined);
  const id = idField === undefined ? undefined : valueAt(fields, idField);
  const titleField = options.titleField ?? 'title';
  const title = valueAt(fields, titleField);
  const excluded = new Set([...textFields, idField, titleField]);
  const keys = options.metadataFields ?? Object.keys(fields).filter((key) => !excluded.has(key));
  const metadata = Object.fromEntries(
    keys.map((key) => [key, valueAt(fields, key)]).filter(([, value]) => value !== undefined),
  );
  return {
    text: (parts as string[]).join('\n\n'),
    format,
    metadata,
    ...(typeof title === 'string' && title ? { title } : {}),
    ...(typeof id === 'string' || typeof id === 'number' ? { recordId: String(id) } : {}),
  };
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`${where} is not valid JSON`, { code: 'invalid_document', cause: error });
  }
}

/** JSON: an array of records (one document each) or a single record. */
export function loadJson(bytes: Uint8Array, options: JsonLoaderOptions = {}): LoadedDocument[] {
  const value = parse(decodeText(bytes), 'The JSON document');
  const records = Array.isArray(value) ? value : [value];
  return records.map((record, index) => toDocument(record, `Record ${index}`, options, 'json'));
}

/** JSON lines: one record per non-empty line, one document each. */
export function loadJsonLines(bytes: Uint8Array, options: JsonLoaderOptions = {}): LoadedDocument[] {
  const documents: LoadedDocument[] = [];
  decodeText(bytes)
    .split('\n')
    .forEach((line, index) => {
      if (line.trim())
        documents.push(toDocument(parse(line, `Line ${index + 1}`), `Line ${index + 1}`, options, 'jsonl'));
    });
  return documents;
}
