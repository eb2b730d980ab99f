import type { DocumentFormat, JsonLoaderOptions } from '../loaders/loaded-document.js';
import type { SafeFetchOptions } from './safe-fetch.js';

/** Fields every source may set on the documents it yields. */
interface SourceCommon {
  /** Merged into each document's metadata (and so filterable). @example { team: 'docs' } */
  metadata?: Record<string, unknown>;
  /** Forces a loader instead of detecting it. */
  format?: DocumentFormat;
  /** For JSON and JSON-lines sources. */
  json?: JsonLoaderOptions;
}

/** Text given inline, e.g. by the API. */
export interface TextSource extends SourceCommon {
  type: 'text';
  text: string;
  /** Document id. @default 'text:' + the SHA-256 of the text */
  id?: string;
  title?: string;
  /** Where the text came from, for citations. */
  uri?: string;
}

/** Bytes given inline, e.g. an uploaded file. */
export interface BytesSource extends SourceCommon {
  type: 'bytes';
  bytes: Uint8Array;
  /** Used for format detection and as the default id. @example 'guide.pdf' */
  filename: string;
  mimeType?: string;
  id?: string;
}

/** A file inside one of the configured roots. */
export interface FileSource extends SourceCommon {
  type: 'file';
  /** Relative to the first root, or absolute inside a root. */
  path: string;
}

/**
 * Every matching file of a folder inside one of the configured roots. Symbolic links inside the
 * folder are not followed (one to `/` would walk the whole disk); give a linked file as a file source.
 */
export interface FolderSource extends SourceCommon {
  type: 'folder';
  path: string;
  /** Globs relative to the folder. @default every extension a loader reads, e.g. '**\/*.md' */
  include?: string[];
  /** Globs to skip. @default ['**\/node_modules/**', '**\/.git/**'] (dot files are always skipped) */
  ignore?: string[];
}

/** A public http(s) URL. */
export interface UrlSource extends SourceCommon {
  type: 'url';
  url: string;
}

/** Anything an ingest can read. */
export type IngestSource = TextSource | BytesSource | FileSource | FolderSource | UrlSource;

/** Limits and permissions of reading sources. */
export interface SourceOptions {
  /** Folders files may be read from; without any, file and folder sources are refused. */
  roots?: readonly string[];
  /** How URLs are fetched (private networks refused unless allowed there). */
  fetch?: SafeFetchOptions;
  /** Largest file read. @default 50 MiB */
  maxFileBytes?: number;
  /** Most files a folder source may yield. @default 10_000 */
  maxFiles?: number;
  signal?: AbortSignal;
}

/** One document's raw content, before a loader parses it. */
export interface SourceDocument {
  /** Stable id: the same source always gets the same id. @example 'file:docs/guide.md' */
  id: string;
  /** For citations. */
  uri?: string;
  title?: string;
  bytes?: Uint8Array;
  text?: string;
  mimeType?: string;
  format?: DocumentFormat;
  json?: JsonLoaderOptions;
  metadata?: Record<string, unknown>;
  /** For a file found in a folder: its path relative to its root, as reports name it. */
  entry?: string;
  /** For a file: its real path (never stored or shown; error messages have it replaced). */
  file?: string;
  /** For a file: its id before ids were relative to the roots (an absolute `file://` URL), to replace. */
  legacyId?: string;
}
