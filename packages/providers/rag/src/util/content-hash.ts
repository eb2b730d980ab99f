import { createHash } from 'node:crypto';

/**
 * Hex SHA-256 of the given parts, each followed by a NUL so that `('ab', 'c')` and `('a', 'bc')`
 * differ. Used for chunk ids, document versions and embedding cache keys.
 */
export function contentHash(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\0');
  }
  return hash.digest('hex');
}
