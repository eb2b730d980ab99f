/**
 * Property test of the hard rule over every route of the built `fusion serve`: bad input gets a 4xx
 * in the route's error shape (OpenAI's, Anthropic's on /v1/messages, JSON-RPC's on /mcp), never a
 * 5xx, a hang or a crash, and the server answers /health after it all; stopped and started again on
 * the same state folder, it still has the collection nobody asked to change.
 *
 * fast-check draws the requests (see test/support/malformed-requests.ts); a failure prints its seed:
 * replay it with `FUZZ_SEED=<seed> npx vitest run test/api/malformed-input.test.ts`. `FUZZ_RUNS`
 * changes the number of cases per route group (default 60 with keys off, 25 with keys on). The seed
 * is fixed (20261207) unless `FUZZ_SEED` says otherwise (`random` for a new draw).
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
  sendWire,
  shapeOfPath,
  type WireRequest,
  wireRequest,
} from '../support/malformed-requests.js';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { CHAT_MODEL, type ServedIds, servedRoutes } from '../support/served-routes.js';
import { type RunningCli, runCliToEnd, spawnCli } from '../support/spawn-cli.js';

/** Cases per route of a group, with keys off (with keys on: 40 % of it). */
const RUNS = Number(process.env.FUZZ_RUNS) || 12;
// `npm test` draws the same cases every time (a red run must be a defect, not a new draw);
// `FUZZ_SEED=random` draws new ones, to hunt (random draws still find harness and route defects:
// see the session notes), and `FUZZ_SEED=<n>` replays a draw.
const SEED =
  process.env.FUZZ_SEED === 'random'
    ? undefined
    : process.env.FUZZ_SEED
      ? Number(process.env.FUZZ_SEED)
      : 20_261_207;
const KEY = 'fk_fuzz_0123456789abcdef0123456789abcdef';
const ADMIN_KEY = 'fk_admin_fedcba9876543210fedcba9876543210';
/** With FUZZ_STATS=1, the statuses answered per route, printed at the end. */
const STATS: string[] | undefined = process.env.FUZZ_STATS ? [] : undefined;
const GROUPS = Object.keys(servedRoutes());

/** Headers any client may send, odd ones included (now and then: most requests reach the route). */
const commonHeaders = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        'x-request-id': fc.constantFrom('fuzz-1', '', ' ', 'x'.repeat(5000), '../../x', 'a\tb'),
        accept: fc.constantFrom('*/*', 'text/event-stream', 'application/json', 'image/png', ''),
        'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
        'anthropic-version': fc.constantFrom('2023-06-01', 'nope'),
        'mcp-session-id': fc.constantFrom('nope', '', 'x'.repeat(300)),
        'idempotency-key': fc.constantFrom('k1', '', 'x'.repeat(3000)),
      },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        origin: fc.constantFrom(
          'http://127.0.0.1',
          'http://localhost:3000',
          'http://evil.example',
          'null',
          'x',
        ),
        'access-control-request-method': fc.constantFrom('POST', 'GET', 'DELETE', 'FOO', ''),
      },
      { requiredKeys: ['origin'] },
    ),
  },
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

async function checkCase(
  server: RunningCli,
  request: RawRequest & { spec: RouteSpec },
  specs: RouteSpec[],
): Promise<void> {
  if (server.child.exitCode !== null) throw new Error(`the server exited:\n${server.output().slice(-2000)}`);
  let problem: string | undefined;
  try {
    const response = await send(server.url, request);
    if (STATS)
      STATS.push(`${request.spec.method} ${request.spec.path} <- ${request.method} ${response.status}`);
    problem = answerProblem(request, response, shapeOfPath(request.path, specs));
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem) {
    const logged =
      server
        .output()
        .match(/\[fusion\][^\n]*failed:[\s\S]{0,1500}/g)
        ?.at(-1) ?? '';
    throw new Error(`${problem}\n${describeRequest(request)}\n${logged}`);
  }
}

/** Bytes on the wire (what no HTTP client sends) get an answer in the API's shape too. */
async function fuzzWire(server: RunningCli, runs: number, extraHeader?: string): Promise<void> {
  await fc.assert(
    fc.asyncProperty(wireRequest, async (drawn: WireRequest) => {
      const request = extraHeader
        ? { ...drawn, text: drawn.text.replace('\r\n', `\r\n${extraHeader}\r\n`) }
        : drawn;
      const answer = await sendWire(server.url, request);
      if (STATS) STATS.push(`wire <- ${answer?.status ?? 'no answer'}`);
      // The known gap of WireRequest.brokenBody: a closed connection, not a wrong answer or a crash.
      if (!answer && request.brokenBody) return;
      const problem = answer
        ? answerProblem(
            {
              method: request.text.startsWith('HEAD ') ? 'HEAD' : 'GET',
              path: request.path,
              headers: {},
              note: '',
            },
            answer,
            request.path === '/v1/messages' ? 'anthropic' : 'openai',
          )
        : 'the server closed the connection without an answer';
      if (problem) throw new Error(`${problem}\n${JSON.stringify(request.text.slice(0, 600))}`);
    }),
    { numRuns: runs, ...(SEED === undefined ? {} : { seed: SEED }), interruptAfterTimeLimit: 120_000 },
  );
  await expectHealthy(server);
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
  runsPerRoute: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(malformedRequest(specs, headers), (request) => checkCase(server, request, specs)),
    {
      numRuns: Math.max(1, Math.round(runsPerRoute * specs.length)),
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

/** Makes a stored response, a fusion trace and jobs, so that routes with ids reach them. */
async function createIds(url: string, headers: Record<string, string> = {}): Promise<ServedIds> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(response.status, path).toBeLessThan(300);
    return (await response.json()) as Record<string, unknown>;
  };
  const messages = [{ role: 'user', content: 'Hi' }];
  const response = await post('/v1/responses', { model: CHAT_MODEL, input: 'Hi', store: true });
  const fused = await post('/api/fusion/chat', { strategy: 'fallback', targets: [CHAT_MODEL], messages });
  const job = await post('/v1/jobs', {
    kind: 'chat.batch',
    input: { requests: [{ model: CHAT_MODEL, messages }] },
  });
  const ingest = await post('/api/rag/ingest', {
    collection: 'fuzzed',
    create: true,
    async: true,
    documents: [{ text: 'Coffee brews for four minutes.' }],
  });
  return {
    response: response.id as string,
    trace: (fused.trace as { id: string }).id,
    job: job.id as string,
    ragJob: ingest.id as string,
  };
}

let upstream: MockUpstream;
const running: RunningCli[] = [];
const folders: string[] = [];

beforeAll(async () => {
  upstream = await startMockUpstream();
});

afterAll(async () => {
  if (STATS) {
    const counts = new Map<string, number>();
    for (const line of STATS) counts.set(line, (counts.get(line) ?? 0) + 1);
    console.log(
      [...counts]
        .sort()
        .map(([line, count]) => `${count}\t${line}`)
        .join('\n'),
    );
  }
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
    60_000,
  ).then((cli) => {
    running.push(cli);
    return cli;
  });
}

describe('fusion serve with no API keys, fuzzed route group by route group', { timeout: 240_000 }, () => {
  let cwd: string;
  let server: RunningCli;
  let routes: Record<string, RouteSpec[]>;

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
    routes = servedRoutes(await createIds(server.url));
  }, 180_000);

  for (const group of GROUPS) {
    it(`answers malformed requests to the ${group} routes with a 4xx in their error shape`, async () => {
      await fuzz(server, routes[group]!, commonHeaders, RUNS);
    });
  }

  it('answers malformed HTTP on the wire with a 4xx in the error shape', async () => {
    await fuzzWire(server, RUNS * 10);
  });

  it('keeps what nobody asked to change: restarted, it loads every collection, "keep" whole', async () => {
    const keep = async (url: string) => (await fetch(`${url}/api/rag/collections/keep`)).json();
    const before = await keep(server.url);
    expect(before).toMatchObject({ name: 'keep' });
    await server.stop('SIGTERM');
    const again = await serve(cwd);
    const after = await waitReady(again.url);
    expect(after.collections.filter((entry) => entry.status !== 'ready')).toEqual([]);
    expect(await keep(again.url)).toEqual(before);
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
  let routes: Record<string, RouteSpec[]>;

  beforeAll(async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fusion-fuzz-keys-'));
    folders.push(cwd);
    writeFileSync(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({
        apiKeys: [
          { id: 'fuzz', key: KEY },
          { id: 'operator', key: ADMIN_KEY, admin: true },
        ],
      }),
    );
    server = await serve(cwd);
    await waitReady(server.url, { authorization: `Bearer ${ADMIN_KEY}` });
    routes = servedRoutes(await createIds(server.url, { authorization: `Bearer ${KEY}` }));
  }, 60_000);

  const headers = fc
    .tuple(commonHeaders, credentials)
    .map(([common, credential]) => ({ ...common, ...credential }));
  for (const group of GROUPS) {
    it(`answers the ${group} routes in their error shape, whatever the credentials`, async () => {
      await fuzz(server, routes[group]!, headers, RUNS * 0.4);
    });
  }

  it('answers malformed HTTP on the wire in the error shape, with a good key', async () => {
    await fuzzWire(server, RUNS * 4, `Authorization: Bearer ${KEY}`);
  });
});
