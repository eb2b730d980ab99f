/**
 * Property test of the hard rule over every route of the built `fusion serve`: bad input gets a 4xx
 * in the route's error shape (OpenAI's, Anthropic's on /v1/messages, JSON-RPC's on /mcp), never a
 * 5xx, a hang or a crash, and the server answers /health after it all; stopped and started again on
 * the same state folder, it still has the collection nobody asked to change.
 *
 * fast-check draws the requests (see test/support/malformed-requests.ts); a failure prints its seed:
 * replay it with `FUZZ_SEED=<seed> npx vitest run test/api/malformed-input.test.ts`. `FUZZ_RUNS`
 * changes the number of cases per route group (default 60 with keys off, 25 with keys on).
 * Requests that once broke a route are kept below as plain regression cases.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerProblem,
  closeConnections,
  describeRequest,
  malformedRequest,
  type RawRequest,
  type RouteSpec,
  send,
  shapeOfPath,
} from '../support/malformed-requests.js';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { SERVED_ROUTES } from '../support/served-routes.js';
import { type RunningCli, runCliToEnd, spawnCli } from '../support/spawn-cli.js';

const RUNS = Number(process.env.FUZZ_RUNS) || 60;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const KEY = 'fk_fuzz_0123456789abcdef0123456789abcdef';
const ADMIN_KEY = 'fk_admin_fedcba9876543210fedcba9876543210';
const ALL_SPECS = Object.values(SERVED_ROUTES).flat();

/** Headers any client may send, odd ones included. */
const commonHeaders = fc.record(
  {
    'x-request-id': fc.constantFrom('fuzz-1', '', ' ', 'x'.repeat(5000), '../../x', 'a\tb'),
    origin: fc.constantFrom('http://127.0.0.1', 'http://evil.example', 'null', 'not a url'),
    accept: fc.constantFrom('*/*', 'text/event-stream', 'application/json', 'image/png', ''),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
    'anthropic-version': fc.constantFrom('2023-06-01', 'nope'),
    'mcp-session-id': fc.constantFrom('nope', '', 'x'.repeat(300)),
    'idempotency-key': fc.constantFrom('k1', '', 'x'.repeat(3000)),
  },
  { requiredKeys: [] },
);

/** The credentials a client may present to a server with keys. */
const credentials = fc.constantFrom<Record<string, string>>(
  { authorization: `Bearer ${KEY}` },
  { authorization: `Bearer ${KEY}` },
  { authorization: `Bearer ${ADMIN_KEY}` },
  {},
  { authorization: 'Bearer ' },
  { authorization: 'Bearer fk_wrong_0000' },
  { authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` },
  { authorization: `bearer ${KEY}` },
  { 'x-api-key': KEY },
  { 'x-api-key': 'nope' },
);

async function checkCase(server: RunningCli, request: RawRequest, specs: RouteSpec[]): Promise<void> {
  if (server.child.exitCode !== null) throw new Error(`the server exited:\n${server.output().slice(-2000)}`);
  let problem: string | undefined;
  try {
    const response = await send(server.url, request);
    problem = answerProblem(request, response, shapeOfPath(request.path, specs));
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem) {
    const logged = server.output().match(/\[fusion\][^\n]*failed:[\s\S]{0,1500}/g)?.at(-1) ?? '';
    throw new Error(`${problem}\n${describeRequest(request)}\n${logged}`);
  }
}

async function expectHealthy(server: RunningCli): Promise<void> {
  expect(server.child.exitCode).toBeNull();
  const response = await fetch(`${server.url}/health`);
  expect(response.status).toBe(200);
}

async function fuzz(
  server: RunningCli,
  specs: RouteSpec[],
  headers: fc.Arbitrary<Record<string, string>>,
  runs: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(malformedRequest(specs, headers), (request) => checkCase(server, request, ALL_SPECS)),
    {
      numRuns: runs,
      ...(SEED === undefined ? {} : { seed: SEED }),
      // Shrinking sends requests too: bounded, the failure found is reported anyway.
      interruptAfterTimeLimit: 120_000,
    },
  );
  await expectHealthy(server);
}

async function waitReady(url: string, headers: Record<string, string> = {}) {
  for (let attempt = 0; attempt < 400; attempt++) {
    const response = await fetch(`${url}/api/rag/status`, { headers });
    const status = (await response.json()) as {
      ready: boolean;
      collections: { name: string; status: string; documents?: number }[];
    };
    if (status.ready) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('collections not ready');
}

let upstream: MockUpstream;
const running: RunningCli[] = [];
const folders: string[] = [];

beforeAll(async () => {
  upstream = await startMockUpstream();
});

afterAll(async () => {
  closeConnections();
  await Promise.all(running.map((cli) => cli.stop('SIGKILL')));
  await upstream?.close();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function serve(cwd: string) {
  return spawnCli(
    ['serve'],
    { FUSION_UPSTREAMS: `lab=${upstream.baseURL}`, FUSION_DIAGNOSTICS: '1', FUSION_LOG: '' },
    cwd,
  ).then((cli) => {
    running.push(cli);
    return cli;
  });
}

describe('fusion serve with no API keys, fuzzed route group by route group', { timeout: 240_000 }, () => {
  let cwd: string;
  let server: RunningCli;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'fusion-fuzz-'));
    folders.push(cwd);
    await mkdir(join(cwd, 'notes'));
    await writeFile(join(cwd, 'notes', 'ports.md'), '# Ports\n\nPorts below 1024 need root on Linux.\n');
    await mkdir(join(cwd, 'keep'));
    await writeFile(join(cwd, 'keep', 'tea.txt'), 'Green tea steeps for two minutes at 80 degrees.\n');
    for (const name of ['notes', 'keep']) {
      const ingest = await runCliToEnd(['ingest', name, '--collection', name], {}, cwd, 90_000);
      expect(ingest.code, ingest.stderr).toBe(0);
    }
    server = await serve(cwd);
    await waitReady(server.url);
  }, 180_000);

  for (const [group, specs] of Object.entries(SERVED_ROUTES)) {
    it(`answers malformed requests to the ${group} routes with a 4xx in their error shape`, async () => {
      await fuzz(server, specs, commonHeaders, RUNS);
    });
  }

  it('keeps what nobody asked to change: restarted, it loads every collection, "keep" whole', async () => {
    const before = await waitReady(server.url);
    await server.stop('SIGTERM');
    const again = await serve(cwd);
    const after = await waitReady(again.url);
    expect(after.collections.filter((entry) => entry.status !== 'ready')).toEqual([]);
    expect(after.collections.find((entry) => entry.name === 'keep')).toEqual(
      before.collections.find((entry) => entry.name === 'keep'),
    );
    const search = await fetch(`${again.url}/api/rag/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ collection: 'keep', query: 'green tea', k: 1 }),
    });
    expect(search.status).toBe(200);
    expect(JSON.stringify(await search.json())).toContain('Green tea');
  });
});

describe('fusion serve with API keys, fuzzed with and without good credentials', { timeout: 240_000 }, () => {
  let server: RunningCli;

  beforeAll(async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fusion-fuzz-keys-'));
    folders.push(cwd);
    writeFileSync(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({ apiKeys: [{ id: 'fuzz', key: KEY }, { id: 'operator', key: ADMIN_KEY, admin: true }] }),
    );
    server = await serve(cwd);
    await waitReady(server.url, { authorization: `Bearer ${ADMIN_KEY}` });
  }, 60_000);

  const headers = fc
    .tuple(commonHeaders, credentials)
    .map(([common, credential]) => ({ ...common, ...credential }));
  for (const [group, specs] of Object.entries(SERVED_ROUTES)) {
    it(`answers the ${group} routes in their error shape, whatever the credentials`, async () => {
      await fuzz(server, specs, headers, Math.max(10, Math.round(RUNS / 2.5)));
    });
  }
});
