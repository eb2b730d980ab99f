/**
 * `fusion ingest` then `fusion serve`, as a new user runs them with no config: the server serves the
 * collections under the state folder at /api/rag (loaded at start, `/api/rag/status` says when), and
 * `FUSION_RAG_DIR` moves that folder. The built CLI in child processes; `npm test` builds first.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { type RunningCli, runCliToEnd, spawnCli } from '../support/spawn-cli.js';

let cwd: string;
let upstream: MockUpstream;
const running: RunningCli[] = [];

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-serve-rag-'));
  await mkdir(join(cwd, 'notes'));
  await writeFile(join(cwd, 'notes', 'ports.md'), '# Ports\n\nPorts below 1024 need root on Linux.\n');
  await writeFile(join(cwd, 'notes', 'tea.txt'), 'Green tea steeps for two minutes at 80 degrees.\n');
  upstream = await startMockUpstream();
});
afterAll(async () => {
  await upstream?.close();
  await Promise.all(running.map((cli) => cli.stop('SIGKILL')));
  await rm(cwd, { recursive: true, force: true });
});

async function serve(env: Record<string, string> = {}) {
  const cli = await spawnCli(['serve'], { FUSION_STATE: 'memory', ...env }, cwd);
  running.push(cli);
  return cli;
}

async function waitReady(url: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const status = (await (await fetch(`${url}/api/rag/status`)).json()) as {
      ready: boolean;
      collections: { name: string; status: string }[];
    };
    if (status.ready) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('collections not ready');
}

describe('fusion serve serves the collections of fusion ingest', () => {
  it('loads them at start and answers /api/rag/search', { timeout: 90_000 }, async () => {
    const ingest = await runCliToEnd(['ingest', 'notes', '--collection', 'notes'], {}, cwd, 60_000);
    expect(ingest.code).toBe(0);
    const cli = await serve();
    const status = await waitReady(cli.url);
    expect(status).toMatchObject({ ready: true, collections: [{ name: 'notes', status: 'ready' }] });
    const response = await fetch(`${cli.url}/api/rag/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ collection: 'notes', query: 'which ports need root?', k: 1 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { text: string }[] };
    expect(body.data[0]?.text).toContain('1024');
    expect(cli.output()).toMatch(/rag: 1 of 1 collection\(s\) loaded/);
    await cli.stop();
  });

  it('/health reports the collections loading, and /health/ready answers 200 only once they are loaded', {
    timeout: 90_000,
  }, async () => {
    const ingest = await runCliToEnd(['ingest', 'notes', '--collection', 'health'], {}, cwd, 60_000);
    expect(ingest.code).toBe(0);
    const cli = await serve({ FUSION_UPSTREAMS: `lab=${upstream.baseURL}` });
    type Report = {
      status: string;
      ready: boolean;
      checks?: { rag?: { ready: boolean; loading: number; failed: number } };
    };
    let report: Report | undefined;
    for (let attempt = 0; attempt < 400; attempt++) {
      const response = await fetch(`${cli.url}/health/ready`);
      report = (await response.json()) as Report;
      if (response.status === 200) break;
      expect(response.status).toBe(503);
      expect(report.ready).toBe(false);
      // Not ready: the model is not up yet, or collections are still loading (counted).
      if (report.status === 'ok') {
        expect(report.checks?.rag?.ready).toBe(false);
        expect(report.checks?.rag?.loading).toBeGreaterThan(0);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(report).toMatchObject({
      status: 'ok',
      ready: true,
      checks: { rag: { ready: true, loading: 0, failed: 0 } },
    });
    // Ready on /health/ready means loaded on /api/rag/status too.
    const status = (await (await fetch(`${cli.url}/api/rag/status`)).json()) as {
      ready: boolean;
      collections: { name: string; status: string }[];
    };
    expect(status.ready).toBe(true);
    expect(status.collections).toContainEqual(expect.objectContaining({ name: 'health', status: 'ready' }));
    const health = await fetch(`${cli.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ready: true, checks: { rag: { ready: true } } });
    await cli.stop();
  });

  it('reads another folder with FUSION_RAG_DIR, and none with rag: false', { timeout: 90_000 }, async () => {
    const elsewhere = join(cwd, 'elsewhere');
    const ingest = await runCliToEnd(
      ['ingest', 'notes', '--collection', 'moved'],
      { FUSION_RAG_DIR: elsewhere },
      cwd,
      60_000,
    );
    expect(ingest.code).toBe(0);
    const moved = await serve({ FUSION_RAG_DIR: elsewhere });
    const status = await waitReady(moved.url);
    expect(status.collections).toEqual([expect.objectContaining({ name: 'moved', status: 'ready' })]);
    await moved.stop();
    await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify({ rag: false }));
    const off = await serve();
    expect((await fetch(`${off.url}/api/rag/status`)).status).toBe(404);
    await off.stop();
    await rm(join(cwd, 'fusion.config.json'));
  });
});
