import { stat } from 'node:fs/promises';
import { InvalidRequestError } from '@fusionkit/core';
import type { DocumentFormat } from '../loaders/loaded-document.js';
import { confinePath } from '../sources/confine-path.js';
import type { IngestSource, SourceOptions } from '../sources/ingest-source.js';
import { checkUrl } from '../sources/safe-fetch.js';
import type { CreateCollectionOptions } from '../store/rag-store.js';
import { confineTokenizer, splitterOption } from './collection-routes.js';
import { readFormData } from './read-form-data.js';
import {
  type Fields,
  isPlainObject,
  readArray,
  readBoolean,
  readEnum,
  readJsonObject,
  readObject,
  readString,
  withParam,
} from './request-fields.js';

/** A checked `POST /api/rag/ingest`. */
export interface IngestRequest {
  collection: string;
  sources: IngestSource[];
  /** Bytes given inline (texts and uploads). */
  inlineBytes: number;
  /** Whether any source is a folder (its size is unknown until it is walked). */
  hasFolder: boolean;
  /** `true`/`false` forces a job or an immediate answer; absent lets the size decide. */
  async?: boolean;
  /** Create the collection when it does not exist. */
  create: boolean;
  /** The splitter of a collection this ingest creates (JSON only). */
  splitter?: CreateCollectionOptions['splitter'];
  webhook?: string;
}

/** Limits of an ingest request. */
export interface IngestRequestLimits {
  /** Largest JSON body, bytes. */
  maxBodyBytes: number;
  /** Largest multipart body, bytes. */
  maxUploadBytes: number;
  /** Roots and URL policy, for checking paths and URLs before anything is read. */
  sources: SourceOptions;
}

const FORMATS: readonly DocumentFormat[] = ['text', 'markdown', 'html', 'pdf', 'json', 'jsonl'];
const encoder = new TextEncoder();

/** Metadata of one source: the request's, then the source's own on top. */
function mergedMetadata(common: Fields | undefined, own: Fields | undefined): { metadata?: Fields } {
  if (!common && !own) return {};
  return { metadata: { ...common, ...own } };
}

/** A list item given as a string (its `key`) or an object; the field a refusal names. */
function itemFields(item: unknown, key: string, param: string): { fields: Fields; keyParam: string } {
  if (typeof item === 'string') return { fields: { [key]: item }, keyParam: param };
  if (!isPlainObject(item)) {
    throw new InvalidRequestError(`'${param}' must be a string or an object with '${key}'.`, { param });
  }
  return { fields: item, keyParam: `${param}.${key}` };
}

function textSource(item: unknown, param: string, common: Fields | undefined): IngestSource {
  const { fields, keyParam } = itemFields(item, 'text', param);
  const text = readString(fields, 'text', { required: true, max: 50_000_000, param: keyParam });
  const id = readString(fields, 'id', { max: 2048, param: `${param}.id` });
  const title = readString(fields, 'title', { max: 2048, param: `${param}.title` });
  const uri = readString(fields, 'uri', { max: 8192, param: `${param}.uri` });
  const format = readEnum(fields, 'format', FORMATS, `${param}.format`);
  const metadata = readObject(fields, 'metadata', `${param}.metadata`);
  return {
    type: 'text',
    text,
    ...(id ? { id } : {}),
    ...(title ? { title } : {}),
    ...(uri ? { uri } : {}),
    ...(format ? { format } : {}),
    ...mergedMetadata(common, metadata),
  };
}

async function urlSource(
  item: unknown,
  param: string,
  common: Fields | undefined,
  options: SourceOptions,
): Promise<IngestSource> {
  const { fields, keyParam } = itemFields(item, 'url', param);
  const url = readString(fields, 'url', { required: true, max: 8192, param: keyParam });
  const metadata = readObject(fields, 'metadata', `${param}.metadata`);
  try {
    await checkUrl(url, options.fetch);
  } catch (error) {
    throw withParam(error, param);
  }
  return { type: 'url', url, ...mergedMetadata(common, metadata) };
}

async function pathSource(
  item: unknown,
  param: string,
  common: Fields | undefined,
  options: SourceOptions,
): Promise<IngestSource> {
  const { fields, keyParam } = itemFields(item, 'path', param);
  const path = readString(fields, 'path', { required: true, max: 4096, param: keyParam });
  const metadata = readObject(fields, 'metadata', `${param}.metadata`);
  const globs = (name: string) => {
    const list = readArray(fields, name, 100, `${param}.${name}`);
    if (list && !list.every((glob) => typeof glob === 'string')) {
      throw new InvalidRequestError(`'${param}.${name}' must list strings.`, { param: `${param}.${name}` });
    }
    return list as string[] | undefined;
  };
  const include = globs('include');
  const ignore = globs('ignore');
  let real: string;
  try {
    real = await confinePath(path, options.roots ?? []);
  } catch (error) {
    throw withParam(error, param);
  }
  const common$ = mergedMetadata(common, metadata);
  if ((await stat(real)).isDirectory()) {
    return {
      type: 'folder',
      path: real,
      ...(include ? { include } : {}),
      ...(ignore ? { ignore } : {}),
      ...common$,
    };
  }
  return { type: 'file', path: real, ...common$ };
}

/** Reads and checks the JSON form: `{ collection, documents, urls, paths, metadata, async, create, webhook }`. */
async function fromJson(body: Fields, limits: IngestRequestLimits): Promise<IngestRequest> {
  const collection = readString(body, 'collection', { required: true, max: 64 });
  const common = readObject(body, 'metadata');
  const documents = readArray(body, 'documents', 10_000) ?? [];
  const urls = readArray(body, 'urls', 100) ?? [];
  const paths = readArray(body, 'paths', 100) ?? [];
  if (documents.length + urls.length + paths.length === 0) {
    throw new InvalidRequestError(
      "Nothing to ingest: give 'documents', 'urls' or 'paths' (or upload files).",
      {
        param: 'documents',
      },
    );
  }
  const sources: IngestSource[] = [];
  let inlineBytes = 0;
  documents.forEach((item, index) => {
    const source = textSource(item, `documents[${index}]`, common);
    inlineBytes += encoder.encode((source as { text: string }).text).byteLength;
    sources.push(source);
  });
  for (const [index, item] of urls.entries())
    sources.push(await urlSource(item, `urls[${index}]`, common, limits.sources));
  for (const [index, item] of paths.entries())
    sources.push(await pathSource(item, `paths[${index}]`, common, limits.sources));
  const splitter = await confineTokenizer(splitterOption(body), limits.sources.roots ?? []);
  return { ...finish(body, collection, sources, inlineBytes), ...(splitter ? { splitter } : {}) };
}

/** Reads the multipart form: files under any field name, plus `collection`, `metadata` (JSON), `urls`, `paths`. */
async function fromMultipart(request: Request, limits: IngestRequestLimits): Promise<IngestRequest> {
  const form = await readFormData(request, limits.maxUploadBytes);
  const fields: Fields = {};
  for (const name of ['collection', 'async', 'create', 'webhook']) {
    const value = form.get(name);
    if (typeof value === 'string') fields[name] = value;
  }
  const collection = readString(fields, 'collection', { required: true, max: 64 });
  let common: Fields | undefined;
  const metadata = form.get('metadata');
  if (typeof metadata === 'string') {
    try {
      common = JSON.parse(metadata) as Fields;
    } catch {
      throw new InvalidRequestError("'metadata' must be a JSON object.", { param: 'metadata' });
    }
    if (!isPlainObject(common))
      throw new InvalidRequestError("'metadata' must be a JSON object.", { param: 'metadata' });
  }
  const sources: IngestSource[] = [];
  let inlineBytes = 0;
  let files = 0;
  for (const [name, value] of form) {
    if (typeof value === 'string') continue;
    if (++files > 1000) throw new InvalidRequestError('At most 1000 files per upload.', { param: name });
    const bytes = new Uint8Array(await value.arrayBuffer());
    inlineBytes += bytes.byteLength;
    sources.push({
      type: 'bytes',
      bytes,
      filename: value.name || `upload-${files}`,
      ...(value.type ? { mimeType: value.type } : {}),
      ...mergedMetadata(common, undefined),
    });
  }
  const urls = form.getAll('urls').filter((value) => typeof value === 'string');
  const paths = form.getAll('paths').filter((value) => typeof value === 'string');
  for (const [index, url] of urls.entries())
    sources.push(await urlSource(url, `urls[${index}]`, common, limits.sources));
  for (const [index, path] of paths.entries())
    sources.push(await pathSource(path, `paths[${index}]`, common, limits.sources));
  if (sources.length === 0) {
    throw new InvalidRequestError('Nothing to ingest: the form holds no file, url or path.', {
      param: 'file',
    });
  }
  return finish(fields, collection, sources, inlineBytes);
}

function finish(
  fields: Fields,
  collection: string,
  sources: IngestSource[],
  inlineBytes: number,
): IngestRequest {
  const async = readBoolean(fields, 'async');
  const webhook = readString(fields, 'webhook', { max: 2048 });
  return {
    collection,
    sources,
    inlineBytes,
    hasFolder: sources.some((source) => source.type === 'folder'),
    create: readBoolean(fields, 'create') ?? false,
    ...(async === undefined ? {} : { async }),
    ...(webhook ? { webhook } : {}),
  };
}

/**
 * Reads `POST /api/rag/ingest` as JSON or `multipart/form-data`, and checks every source before
 * anything is read: paths are confined to the roots (400 `path_not_allowed`, 404 for a missing file),
 * URLs must be http(s) and resolve to public addresses (400 `url_not_allowed`), each error naming
 * its field (`paths[2]`, `urls[0]`). A body over its limit is a 413.
 */
export async function readIngestRequest(
  request: Request,
  limits: IngestRequestLimits,
): Promise<IngestRequest> {
  const contentType = request.headers.get('content-type') ?? '';
  if (/^multipart\/form-data/i.test(contentType)) return fromMultipart(request, limits);
  return fromJson(await readJsonObject(request, limits.maxBodyBytes), limits);
}
