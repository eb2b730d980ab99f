import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes the content of a file through an open handle (called once, may write in pieces). */
export type FileWriter = (write: (data: string | Uint8Array) => Promise<void>) => Promise<void>;

/** A temporary name next to `path`, so the final rename stays on one file system. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Flushes a file (or a directory entry list) to disk. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on directories (EINVAL/EISDIR); the rename is still atomic there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `path` so that readers see either the old content or the whole new content, never a part:
 * the data goes to a temporary file, is fsynced, renamed over `path`, and the directory is fsynced.
 */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array | FileWriter,
): Promise<void> {
  const temporary = temporaryPathFor(path);
  const handle = await open(temporary, 'w', 0o644);
  try {
    if (typeof content === 'function') {
      // writeFile continues from the current position and retries partial writes, unlike write().
      await content((data) => handle.writeFile(data));
    } else {
      await handle.writeFile(content);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await fsyncPath(dirname(path));
}
