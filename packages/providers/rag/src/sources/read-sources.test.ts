import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceDocument } from './ingest-source.js';
import { readSources, type SkippedSource } from './read-sources.js';

let base: string;
let root: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'rag-sources-')));
  root = join(base, 'docs');
  await mkdir(join(root, 'guide'), { recursive: true });
  await mkdir(join(root, 'node_modules', 'pkg'), { recursive: true });
  await mkdir(join(root, '.hidden'));
  await mkdir(join(base, 'outside'));
  await writeFile(join(root, 'index.md'), '# Home');
  await writeFile(join(root, 'guide', 'setup.txt'), 'Setup steps');
  await writeFile(join(root, 'guide', 'draft.txt'), 'Draft');
  await writeFile(join(root, 'image.png'), 'not text');
  await writeFile(join(root, 'node_modules', 'pkg', 'readme.md'), 'dependency');
  await writeFile(join(root, '.hidden', 'notes.md'), 'hidden');
  await writeFile(join(base, 'outside', 'secret.md'), 'secret');
  await symlink(join(base, 'outside', 'secret.md'), join(root, 'escape.md'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function collect(
  sources: Parameters<typeof readSources>[0],
  options: Parameters<typeof readSources>[1],
) {
  const documents: SourceDocument[] = [];
  const skipped: SkippedSource[] = [];
  for await (const document of readSources(sources, options, (entry) => skipped.push(entry)))
    documents.push(document);
  return { documents, skipped };
}

describe('readSources', () => {
  it('reads a folder: supported files, no node_modules, no dot files, no symbolic links', async () => {
    const { documents, skipped } = await collect(
      [{ type: 'folder', path: '.', metadata: { team: 'docs' } }],
      {
        roots: [root],
      },
    );
    expect(documents.map((document) => document.metadata?.path)).toEqual([
      'guide/draft.txt',
      'guide/setup.txt',
      'index.md',
    ]);
    // Ids name the file under its root's folder name, never the server's absolute path.
    expect(documents[2]).toMatchObject({
      id: `file:${basename(root)}/index.md`,
      uri: `file:${basename(root)}/index.md`,
      legacyId: pathToFileURL(join(await realpath(root), 'index.md')).href,
      metadata: { team: 'docs', path: 'index.md' },
    });
    expect(new TextDecoder().decode(documents[2]!.bytes)).toBe('# Home');
    // Links are not followed in folders (a link to / would walk the whole disk); escape.md is not read.
    expect(skipped).toEqual([]);
    expect(documents.some((document) => document.uri?.endsWith('escape.md'))).toBe(false);
  });

  it('skips a folder file that is too large, reads the rest, and reports it relative to its root', async () => {
    const { documents, skipped } = await collect([{ type: 'folder', path: 'guide' }], {
      roots: [root],
      maxFileBytes: 6,
    });
    expect(documents.map((document) => document.entry)).toEqual(['guide/draft.txt']);
    expect(skipped).toEqual([
      { path: 'guide/setup.txt', uri: 'guide/setup.txt', reason: expect.stringContaining('(413)') },
    ]);
    expect(JSON.stringify(skipped)).not.toContain(root);
  });

  it('applies include and ignore globs, and refuses globs that leave the folder', async () => {
    const { documents } = await collect(
      [{ type: 'folder', path: 'guide', include: ['*.txt'], ignore: ['draft*'] }],
      {
        roots: [root],
      },
    );
    expect(documents.map((document) => document.metadata?.path)).toEqual(['setup.txt']);
    await expect(
      collect([{ type: 'folder', path: '.', include: ['../**'] }], { roots: [root] }),
    ).rejects.toThrow(/stay inside/);
  });

  it('confines file and folder sources to the roots', async () => {
    await expect(
      collect([{ type: 'file', path: '../outside/secret.md' }], { roots: [root] }),
    ).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      collect([{ type: 'folder', path: join(base, 'outside') }], { roots: [root] }),
    ).rejects.toMatchObject({
      status: 400,
    });
    await expect(collect([{ type: 'file', path: 'index.md' }], {})).rejects.toThrow(/no root/);
    await expect(collect([{ type: 'file', path: 'guide' }], { roots: [root] })).rejects.toThrow(/not a file/);
  });

  it('limits file size and file count', async () => {
    await expect(
      collect([{ type: 'file', path: 'index.md' }], { roots: [root], maxFileBytes: 3 }),
    ).rejects.toMatchObject({
      status: 413,
    });
    await expect(
      collect([{ type: 'folder', path: '.' }], { roots: [root], maxFiles: 2 }),
    ).rejects.toMatchObject({
      status: 413,
    });
  });

  it('passes text and bytes through with stable ids', async () => {
    const { documents } = await collect(
      [
        { type: 'text', text: 'Some text', title: 'T' },
        { type: 'text', text: 'Other', id: 'note-1', format: 'markdown' },
        { type: 'bytes', bytes: new Uint8Array([104, 105]), filename: 'upload.txt' },
      ],
      {},
    );
    expect(documents[0]).toMatchObject({
      id: expect.stringMatching(/^text:[0-9a-f]{64}$/),
      text: 'Some text',
      title: 'T',
    });
    expect(documents[1]).toMatchObject({ id: 'note-1', format: 'markdown' });
    expect(documents[2]).toMatchObject({ id: 'upload.txt', uri: 'upload.txt' });
  });

  it('fetches URL sources with the fetch policy', async () => {
    const server: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<p>Fetched page</p>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/page`;
    try {
      await expect(collect([{ type: 'url', url }], {})).rejects.toMatchObject({ code: 'url_not_allowed' });
      const { documents } = await collect([{ type: 'url', url }], { fetch: { allowPrivateNetwork: true } });
      expect(documents[0]).toMatchObject({ id: url, uri: url, mimeType: 'text/html' });
    } finally {
      server.close();
    }
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collect([{ type: 'text', text: 'x' }], { signal: controller.signal })).rejects.toMatchObject(
      {
        status: 499,
      },
    );
  });
});
