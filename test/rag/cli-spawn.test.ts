/**
 * `fusion ingest docs/` then `fusion query`, as a new user runs them: the built CLI in a child
 * process, in a fresh directory holding a copy of this repository's docs, with no model configured
 * (lexical only). `npm test` builds every package first.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN } from '../support/spawn-cli.js';

const run = promisify(execFile);
const DOCS = fileURLToPath(new URL('../../docs', import.meta.url));

let cwd: string;

async function fusion(...args: string[]) {
  const { FUSION_UPSTREAMS: _upstreams, ...env } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_BIN, ...args], { cwd, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-new-user-'));
  await cp(DOCS, join(cwd, 'docs'), {
    recursive: true,
    filter: (source) => !source.includes(`${join('docs', 'api')}`),
  });
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('fusion ingest docs/ && fusion query (the built CLI)', () => {
  it('ingests the docs lexical-only into .fusion/rag/docs, then answers a query with ranked sources', async () => {
    const ingest = await fusion('ingest', 'docs/', '--collection', 'docs');
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stderr).toContain("created collection 'docs' in .fusion/rag/docs: lexical only (BM25)");
    expect(ingest.stdout).toMatch(/^ingested \d+ sources \(\d+ documents\) into 'docs': \d+ added/);
    expect(await readdir(join(cwd, '.fusion', 'rag', 'docs'))).toContain('manifest.json');

    const query = await fusion(
      'query',
      'how do I serve the API with the CLI?',
      '--collection',
      'docs',
      '--k',
      '3',
    );
    expect(query.code, query.stderr).toBe(0);
    expect(query.stderr).toContain("from 'docs' (bm25, lexical-only collection)");
    const ranked = query.stdout.split('\n').filter((line) => /^\d+\. /.test(line));
    expect(ranked).toHaveLength(3);
    expect(ranked[0]).toMatch(/^1\. docs\/[\w/-]+\.md( › .+)? {2}\(score [\d.]+ {2}chars \d+-\d+\)$/);

    const missing = await fusion('query', 'anything', '--collection', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no collection 'nope' in .fusion/rag (there are: docs)");
  });
});
