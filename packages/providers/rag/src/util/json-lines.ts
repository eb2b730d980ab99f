import { readFile } from 'node:fs/promises';
import type { FileWriter } from './atomic-write.js';

/** Lines per write: large enough to amortise syscalls, small enough to keep the string short. */
const LINES_PER_WRITE = 512;

/** A {@link FileWriter} that writes one JSON value per line: the header first, then every row. */
export function jsonLinesWriter(header: unknown, rows: Iterable<unknown>): FileWriter {
  return async (write) => {
    let buffer = `${JSON.stringify(header)}\n`;
    let count = 0;
    for (const row of rows) {
      buffer += `${JSON.stringify(row)}\n`;
      if (++count % LINES_PER_WRITE === 0) {
        await write(buffer);
        buffer = '';
      }
    }
    if (buffer) await write(buffer);
  };
}

/**
 * Reads a JSON-lines file written by {@link jsonLinesWriter}. Lines are decoded one by one from the
 * buffer, so a file larger than the biggest possible string still loads.
 */
export async function readJsonLines<THeader, TRow>(path: string): Promise<{ header: THeader; rows: TRow[] }> {
  const bytes = await readFile(path);
  const rows: TRow[] = [];
  let header: THeader | undefined;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    if (end > start) {
      const value = JSON.parse(bytes.toString('utf8', start, end));
      if (header === undefined) header = value as THeader;
      else rows.push(value as TRow);
    }
    start = end + 1;
  }
  if (header === undefined) throw new Error(`${path} is empty`);
  return { header, rows };
}
