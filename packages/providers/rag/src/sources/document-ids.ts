import { realpathSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInside } from './confine-path.js';

/**
 * Ids of documents read from files. A file's id names it relative to the root that holds it,
 * `file:<root folder name>/<path inside it>` (`file:docs/guide/install.md`), so ids, citations and
 * reports never show the server's absolute paths, and stay the same when the folder moves.
 * Collections ingested before this scheme hold absolute `file:///…` URLs: {@link publicDocumentId}
 * shows those in the new form, collections find them by either form, and re-ingesting the file
 * replaces the old id.
 */

/** Each root's name in ids: its folder name, with `~2`, `~3`, … for later roots of the same name. */
function rootNames(roots: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return roots.map((root) => {
    const name = basename(root) || 'root';
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}~${count}`;
  });
}

/** The id of a file (a real path) read from one of `roots` (real paths too). */
export function fileDocumentId(file: string, roots: readonly string[]): string {
  const names = rootNames(roots);
  for (const [index, root] of roots.entries()) {
    if (!isInside(root, file)) continue;
    const inside = relative(root, file).split(sep).join('/');
    return inside ? `file:${names[index]}/${inside}` : `file:${names[index]}`;
  }
  // Not under a root (cannot happen for a confined read): the folder and file names, nothing more.
  return `file:${basename(dirname(file))}/${basename(file)}`;
}

/** The real paths of roots, for mapping ids synchronously (a root that is gone keeps its given path). */
const realRootCache = new WeakMap<readonly string[], string[]>();
function realRootsOf(roots: readonly string[]): string[] {
  let real = realRootCache.get(roots);
  if (!real) {
    real = roots.map((root) => {
      try {
        return realpathSync.native(resolve(root));
      } catch {
        return resolve(root);
      }
    });
    realRootCache.set(roots, real);
  }
  return real;
}

/** Whether an id is an absolute file URL of the earlier scheme. */
export function isLegacyFileId(id: string): boolean {
  return id.startsWith('file://');
}

/**
 * The id a client sees: an earlier absolute `file:///…` id (plus a JSON record's `#…`) in the
 * relative form a re-ingest would give it; any other id unchanged.
 */
export function publicDocumentId(id: string, roots: readonly string[]): string {
  if (!isLegacyFileId(id)) return id;
  const hash = id.indexOf('#');
  const url = hash === -1 ? id : id.slice(0, hash);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return id;
  }
  return fileDocumentId(path, realRootsOf(roots)) + (hash === -1 ? '' : id.slice(hash));
}
