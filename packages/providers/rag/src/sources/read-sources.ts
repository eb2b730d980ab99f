import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidRequestError, PayloadTooLargeError } from '@fusionkit/core';
import { throwIfAborted } from '@fusionkit/core/internal';
import { glob } from 'tinyglobby';
import { SUPPORTED_EXTENSIONS } from '../loaders/load-document.js';
import { contentHash } from '../util/content-hash.js';
import { confinePath, realRoots } from './confine-path.js';
import { fileDocumentId } from './document-ids.js';
import type { FolderSource, IngestSource, SourceDocument, SourceOptions } from './ingest-source.js';
import { safeFetch } from './safe-fetch.js';

/** A source entry that was not read or loaded, and why. */
export interface SkippedSource {
  /** The file, relative to its root (never the server's absolute path). @example 'manuals/broken.pdf' */
  path: string;
  /** The same as `path` (kept for readers of the earlier shape, which held an absolute file URL). @deprecated */
  uri: string;
  /** @example 'not a PDF, text or any other format the loaders read (415)' */
  reason: string;
}

/** The path of `file` relative to the root that holds it (or its base name), for reports. */
export function reportPath(file: string, roots: readonly string[]): string {
  for (const root of roots) {
    const inside = relative(root, file);
    if (inside && !inside.startsWith('..') && !isAbsolute(inside)) return inside;
  }
  return basename(file);
}

/** An error's message for a report: the absolute path replaced by the reported one, with the status. */
export function skipReason(error: unknown, file: string, shown: string): string {
  const message = String((error as Error)?.message ?? error)
    .replaceAll(pathToFileURL(file).href, shown)
    .replaceAll(file, shown);
  const status = (error as { status?: number })?.status;
  return status ? `${message} (${status})` : message;
}

const DEFAULT_IGNORE = ['**/node_modules/**', '**/.git/**'];

async function readConfinedFile(path: string, options: SourceOptions, common: Partial<SourceDocument>) {
  const real = await confinePath(path, options.roots ?? []);
  const info = await stat(real);
  if (!info.isFile())
    throw new InvalidRequestError(`${path} is not a file`, { code: 'path_not_allowed', param: 'path' });
  const maxBytes = options.maxFileBytes ?? 50 * 1024 * 1024;
  if (info.size > maxBytes)
    throw new PayloadTooLargeError(`${path} is larger than ${maxBytes} bytes`, { param: 'path' });
  const id = fileDocumentId(real, await realRoots(options.roots ?? []));
  return {
    ...common,
    id,
    uri: id,
    file: real,
    legacyId: pathToFileURL(real).href,
    bytes: await readFile(real),
  } satisfies SourceDocument;
}

/** The files of a folder source: globbed without following links, then each one confined again. */
async function listFolder(
  source: FolderSource,
  options: SourceOptions,
  onSkip: (skipped: SkippedSource) => void,
) {
  const folder = await confinePath(source.path, options.roots ?? []);
  const patterns = source.include ?? [`**/*.{${SUPPORTED_EXTENSIONS.join(',')}}`];
  if (patterns.some((pattern) => pattern.split('/').includes('..') || pattern.startsWith('/'))) {
    throw new InvalidRequestError('Folder globs must stay inside the folder', {
      code: 'path_not_allowed',
      param: 'include',
    });
  }
  const files = await glob(patterns, {
    cwd: folder,
    ignore: source.ignore ?? DEFAULT_IGNORE,
    absolute: true,
    onlyFiles: true,
    dot: false,
    followSymbolicLinks: false,
    expandDirectories: false,
  });
  const maxFiles = options.maxFiles ?? 10_000;
  if (files.length > maxFiles) {
    throw new PayloadTooLargeError(`${source.path} holds ${files.length} files, more than ${maxFiles}`, {
      param: 'path',
    });
  }
  const roots = await realRoots(options.roots ?? []);
  const allowed: string[] = [];
  for (const file of files.sort()) {
    try {
      allowed.push(await confinePath(file, roots));
    } catch (error) {
      const shown = reportPath(file, roots);
      onSkip({ path: shown, uri: shown, reason: skipReason(error, file, shown) });
    }
  }
  return { folder, files: allowed, roots };
}

/**
 * How many sources `readSources` will read: one for each text, upload, file and URL, and one for each
 * file a folder holds (found as the read will find them, and confined the same way, so a path that
 * escapes the roots fails here already). For progress and ETA.
 */
export async function countSources(
  sources: readonly IngestSource[],
  options: SourceOptions = {},
): Promise<number> {
  let count = 0;
  for (const source of sources) {
    if (source.type === 'folder') count += (await listFolder(source, options, () => {})).files.length;
    else count++;
  }
  return count;
}

/**
 * Reads sources into raw documents, one at a time so a large folder is never all in memory. Files
 * are confined to `options.roots`, URLs fetched with {@link safeFetch}; folder entries that cannot be
 * read are reported to `onSkip` instead of failing the whole ingest.
 */
export async function* readSources(
  sources: readonly IngestSource[],
  options: SourceOptions = {},
  onSkip: (skipped: SkippedSource) => void = () => {},
): AsyncGenerator<SourceDocument> {
  for (const source of sources) {
    if (options.signal) throwIfAborted(options.signal);
    const common = {
      ...(source.metadata ? { metadata: source.metadata } : {}),
      ...(source.format ? { format: source.format } : {}),
      ...(source.json ? { json: source.json } : {}),
    };
    switch (source.type) {
      case 'text':
        if (typeof source.text !== 'string')
          throw new InvalidRequestError('text must be a string', { param: 'text' });
        yield {
          ...common,
          id: source.id ?? `text:${contentHash(source.text)}`,
          text: source.text,
          format: source.format ?? 'text',
          ...(source.uri ? { uri: source.uri } : {}),
          ...(source.title ? { title: source.title } : {}),
        };
        break;
      case 'bytes':
        yield {
          ...common,
          id: source.id ?? source.filename,
          uri: source.filename,
          bytes: source.bytes,
          ...(source.mimeType ? { mimeType: source.mimeType } : {}),
        };
        break;
      case 'file':
        yield await readConfinedFile(source.path, options, common);
        break;
      case 'folder': {
        const { folder, files, roots } = await listFolder(source, options, onSkip);
        for (const file of files) {
          if (options.signal) throwIfAborted(options.signal);
          const entry = reportPath(file, roots);
          let document: SourceDocument;
          try {
            document = await readConfinedFile(file, options, common);
          } catch (error) {
            // One unreadable file (too large, gone, unreadable) does not fail the folder.
            onSkip({ path: entry, uri: entry, reason: skipReason(error, file, entry) });
            continue;
          }
          yield { ...document, entry, metadata: { ...document.metadata, path: relative(folder, file) } };
        }
        break;
      }
      case 'url': {
        const fetched = await safeFetch(source.url, {
          ...options.fetch,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        yield {
          ...common,
          id: source.url,
          uri: fetched.url,
          bytes: fetched.bytes,
          ...(fetched.contentType ? { mimeType: fetched.contentType } : {}),
        };
        break;
      }
      default:
        throw new InvalidRequestError(`Unknown source type '${(source as { type: unknown }).type}'`, {
          param: 'type',
        });
    }
  }
}
