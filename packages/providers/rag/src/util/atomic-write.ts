import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, fsync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Writes the content of a file through an open handle (called once, may write in pieces). */
export type FileWriter = (write: (data: string | Uint8Array) => Promise<void>) => Promise<void>;

/**
 * Content up to this size is written with synchronous calls (it lands in the page cache at once) and
 * only the flush to disk goes through the thread pool: a commit's small files then cost one round
 * trip each instead of one per call (each a few milliseconds on a busy machine).
 */
const SMALL_FILE_BYTES = 1 << 20;

const fsyncDescriptor = promisify(fsync);
/** Flushes a file's data and the metadata needed to read it back (its size), not its times. */
export const fdatasyncDescriptor = promisify(fdatasync);

/** A temporary name next to `path`, so the final rename stays on one file system. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes all of `data` at the descriptor's position (or from `position` on). */
export function writeFullSync(descriptor: number, data: Uint8Array, position?: number): void {
  let written = 0;
  while (written < data.length) {
    written += writeSync(
      descriptor,
      data,
      written,
      data.length - written,
      position === undefined ? null : position + written,
    );
  }
}

/** Flushes a file (or a directory entry list) to disk. */
export async function fsyncPath(path: string): Promise<void> {
  const descriptor = openSync(path, 'r');
  try {
    await fsyncDescriptor(descriptor);
  } catch (error) {
    // Some file systems refuse fsync on directories (EINVAL/EISDIR); the rename is still atomic there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    closeSync(descriptor);
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
  // A UTF-16 unit is at most 3 bytes of UTF-8.
  if (typeof content === 'string' && content.length * 3 <= SMALL_FILE_BYTES)
    return writeSmallFileAtomic(path, Buffer.from(content, 'utf8'));
  if (content instanceof Uint8Array && content.byteLength <= SMALL_FILE_BYTES)
    return writeSmallFileAtomic(path, content);
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

async function writeSmallFileAtomic(path: string, content: Uint8Array): Promise<void> {
  const temporary = temporaryPathFor(path);
  const descriptor = openSync(temporary, 'w', 0o644);
  try {
    writeFullSync(descriptor, content);
    await fdatasyncDescriptor(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  await fsyncPath(dirname(path));
}
