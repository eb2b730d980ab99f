import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidRequestError, NotFoundError } from '@fusionkit/core';

function notAllowed(message: string): InvalidRequestError {
  return new InvalidRequestError(message, { code: 'path_not_allowed', param: 'path' });
}

/** True when `path` is `root` or inside it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (!rest.startsWith(`..${sep}`) && rest !== '..' && !isAbsolute(rest));
}

/** `..` as a path segment, in the text as given or after up to three rounds of percent-decoding. */
function hasParentSegment(input: string): boolean {
  let text = input;
  for (let round = 0; round < 4; round++) {
    if (text.split(/[\\/]/).includes('..') || text.includes('\0')) return true;
    let decoded: string;
    try {
      decoded = decodeURIComponent(text);
    } catch {
      return false; // Not percent-encoded text (e.g. a literal '100%.txt'): nothing more to decode.
    }
    if (decoded === text) return false;
    text = decoded;
  }
  return true;
}

/** The real paths of the configured roots; an ingest with no root configured may read no file. */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  if (roots.length === 0) throw notAllowed('Reading files is disabled: no root folder is configured');
  return Promise.all(roots.map((root) => realpath(resolve(root))));
}

/**
 * Resolves a client-given path to a real path inside one of `roots`, or throws a 400
 * (`path_not_allowed`): NUL bytes, `..` segments (also percent-encoded), absolute paths outside every
 * root, and symbolic links whose target lies outside every root are refused. Relative paths are taken
 * from the first root. A missing file is a 404.
 */
export async function confinePath(input: string, roots: readonly string[]): Promise<string> {
  if (typeof input !== 'string' || input.length === 0) throw notAllowed('A path is required');
  if (input.includes('\0')) throw notAllowed('Paths may not contain NUL bytes');
  if (hasParentSegment(input)) throw notAllowed(`Paths may not contain '..': ${JSON.stringify(input)}`);
  const allowed = await realRoots(roots);
  const lexicalRoots = roots.map((root) => resolve(root));
  const candidate = isAbsolute(input) ? resolve(input) : resolve(allowed[0]!, input);
  if (![...lexicalRoots, ...allowed].some((root) => isInside(root, candidate))) {
    throw notAllowed(`${input} is outside the folders files may be read from`);
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`No such file: ${input}`, { code: 'file_not_found', param: 'path' });
    }
    throw error;
  }
  if (!allowed.some((root) => isInside(root, real))) {
    throw notAllowed(`${input} links outside the folders files may be read from`);
  }
  return real;
}
