import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';
import { jsonLinesWriter, readJsonLines } from './json-lines.js';
import { SerialQueue } from './serial-queue.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-atomic-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temporary file', async () => {
    const path = join(directory, 'state.json');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await readdir(directory)).toEqual(['state.json']);
  });

  it('keeps the old content when writing fails midway', async () => {
    const path = join(directory, 'state.json');
    await writeFile(path, 'old');
    const failing = writeFileAtomic(path, async (write) => {
      await write('partial');
      throw new Error('disk full');
    });
    await expect(failing).rejects.toThrow('disk full');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(directory)).toEqual(['state.json']);
  });
});

describe('json lines', () => {
  it('round-trips a header and many rows', async () => {
    const path = join(directory, 'rows.jsonl');
    const rows = Array.from({ length: 1500 }, (_, index) => ({ index, text: `line ${index}\nwith newline` }));
    await writeFileAtomic(path, jsonLinesWriter({ version: 1 }, rows));
    const read = await readJsonLines<{ version: number }, (typeof rows)[number]>(path);
    expect(read.header).toEqual({ version: 1 });
    expect(read.rows).toEqual(rows);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time, in order, and survives a failure', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run(task('a')),
      queue.run(task('b', true)),
      queue.run(task('c')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
