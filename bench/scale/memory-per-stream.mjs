/**
 * Memory per stream, measured so that the machine's load does not move it (the scale bench's RSS
 * and wall time do move): `fusion serve` (or the minimal proxy) in front of the slow upstream, with
 *
 * - `--mode heap` (default): a heap snapshot at rest and one with `--count` (2,000) streams open;
 *   prints the JavaScript heap per open stream and, per kind of object, what each stream adds.
 * - `--mode alloc`: V8's `--trace-gc-nvp` bytes allocated over a burst of `--counts` (500,2500)
 *   streams of `--chunks` chunks each; prints (bytes(N2) - bytes(N1)) / (N2 - N1), the bytes a
 *   stream allocates, garbage included.
 *
 *   node bench/scale/memory-per-stream.mjs                       # fusion serve, heap per open stream
 *   node bench/scale/memory-per-stream.mjs --target proxy        # the minimal proxy, for comparison
 *   node bench/scale/memory-per-stream.mjs --mode alloc --chunks 4
 *
 * Needs `ulimit -n` above twice the stream count (`npm run bench:scale` raises it; or `ulimit -n
 * $(ulimit -Hn)` first).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { forkServer, killNow } from '../gateway/server-processes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../..');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index !== -1 && process.argv[index + 1] !== undefined ? process.argv[index + 1] : fallback;
}

const options = {
  mode: option('mode', 'heap'),
  target: option('target', 'fusion'),
  count: Number(option('count', '2000')),
  counts: option('counts', '500,2500').split(',').map(Number),
  chunks: Number(option('chunks', '20')),
  gatewayBin: option('gateway-bin', 'packages/cli/dist/bin.js'),
};

/** The slow upstream, its streams `streamMs` long. */
function startUpstream(streamMs) {
  return forkServer('slow upstream', join(here, 'slow-upstream.mjs'), [
    '--chunks',
    String(options.chunks),
    '--stream-ms',
    String(streamMs),
  ]);
}

/** The target with its output in a file (GC traces can be long); resolves once it listens. */
async function startTarget(upstreamPort, nodeFlags, dir) {
  const log = join(dir, 'output.log');
  const out = openSync(log, 'w');
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const child =
    options.target === 'proxy'
      ? spawn(
          process.execPath,
          [
            ...nodeFlags,
            join(here, '../gateway/minimal-proxy.mjs'),
            '--upstream',
            upstream,
            '--max-sockets',
            'Infinity',
          ],
          { stdio: ['ignore', out, out] },
        )
      : spawn(process.execPath, [...nodeFlags, resolve(repoRoot, options.gatewayBin), 'serve'], {
          env: {
            ...process.env,
            FUSION_UPSTREAMS: `bench=${upstream}/v1`,
            FUSION_PORT: '0',
            FUSION_HOST: '127.0.0.1',
          },
          stdio: ['ignore', out, out],
        });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = /listening on (http:\/\/[0-9.:]+)/.exec(readFileSync(log, 'utf8'));
    if (match) return { child, log, url: new URL(`${match[1]}/v1/chat/completions`) };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`target did not start:\n${readFileSync(log, 'utf8')}`);
    await sleep(100);
  }
}

function streamer(url) {
  const body = Buffer.from(
    JSON.stringify({
      model: options.target === 'proxy' ? 'bench-model' : 'bench/bench-model',
      messages: [{ role: 'user', content: 'Tell me a slow story.' }],
      max_tokens: 64,
      stream: true,
    }),
  );
  const agent = new Agent({
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
  });
  /** Opens `count` streams; resolves once each sent its first byte, with `done`, the promise of their ends. */
  return async (count) => {
    let opened = 0;
    let onAllOpen;
    const allOpen = new Promise((done) => (onAllOpen = done));
    const ends = Array.from(
      { length: count },
      () =>
        new Promise((done) => {
          const outgoing = request(
            {
              agent,
              host: url.hostname,
              port: url.port,
              path: url.pathname,
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'content-length': body.length,
              },
            },
            (response) => {
              response.once('data', () => ++opened === count && onAllOpen());
              response.resume();
              response.on('end', done);
              response.on('error', done);
            },
          );
          outgoing.on('error', (error) => {
            console.error(error.message);
            done();
          });
          outgoing.end(body);
        }),
    );
    await allOpen;
    return { done: Promise.all(ends) };
  };
}

/** Self size per node kind and name of a heap snapshot. */
function heapByKind(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const {
    node_fields: fields,
    node_types: [types],
  } = snapshot.snapshot.meta;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((name) => fields.indexOf(name));
  const kinds = new Map();
  let total = 0;
  for (let index = 0; index < snapshot.nodes.length; index += fields.length) {
    const type = types[snapshot.nodes[index + typeAt]];
    const name = snapshot.strings[snapshot.nodes[index + nameAt]];
    const kind = type.includes('string')
      ? '(strings)'
      : type === 'object' || type === 'closure'
        ? `${type} ${name.slice(0, 48) || '(anonymous)'}`
        : `(${type}) ${type === 'array' || type === 'hidden' ? name.slice(0, 32) : ''}`.trim();
    const size = snapshot.nodes[index + sizeAt];
    total += size;
    const entry = kinds.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += 1;
    kinds.set(kind, entry);
  }
  return { kinds, total };
}

async function snapshotNow(child, dir) {
  const before = readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot')).length;
  process.kill(child.pid, 'SIGUSR2');
  let last = -1;
  for (;;) {
    await sleep(1000);
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.heapsnapshot'))
      .sort();
    if (files.length > before) {
      const size = statSync(join(dir, files.at(-1))).size;
      if (size > 0 && size === last) return join(dir, files.at(-1));
      last = size;
    }
  }
}

async function heapMode(dir) {
  // Streams longer than the measurement: all of them are open at the second snapshot.
  const upstream = await startUpstream(120_000);
  const target = await startTarget(
    upstream.port,
    ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`],
    dir,
  );
  try {
    const open = streamer(target.url);
    // Warm-up: pools filled and code compiled, then let go.
    await streamer(target.url)(50);
    await sleep(2000);
    const atRest = heapByKind(await snapshotNow(target.child, dir));
    await open(options.count);
    await sleep(1000);
    const loaded = heapByKind(await snapshotNow(target.child, dir));
    const perStream = (loaded.total - atRest.total) / options.count;
    console.log(
      `${options.target}: JavaScript heap ${(perStream / 1024).toFixed(
        2,
      )} KB per open stream (${options.count} open)\n`,
    );
    console.log('| bytes / stream | objects / stream | kind |\n|---|---|---|');
    const rows = [...loaded.kinds].map(([kind, entry]) => {
      const rest = atRest.kinds.get(kind) ?? { bytes: 0, count: 0 };
      return [kind, (entry.bytes - rest.bytes) / options.count, (entry.count - rest.count) / options.count];
    });
    for (const [kind, bytes, count] of rows.sort((a, b) => b[1] - a[1]).slice(0, 30)) {
      console.log(`| ${bytes.toFixed(0)} | ${count.toFixed(2)} | ${kind} |`);
    }
  } finally {
    target.child.kill('SIGKILL');
    killNow(upstream.handle);
  }
}

async function allocMode(dir) {
  const upstream = await startUpstream(1000);
  const target = await startTarget(upstream.port, ['--trace-gc-nvp'], dir);
  const allocated = (from, to) => {
    let sum = 0;
    for (const match of readFileSync(target.log, 'utf8')
      .slice(from, to)
      .matchAll(/allocated=(\d+)/g))
      sum += Number(match[1]);
    return sum;
  };
  try {
    const burst = streamer(target.url);
    await (await burst(200)).done;
    await sleep(500);
    const bytes = [];
    for (const count of options.counts) {
      const from = statSync(target.log).size;
      await (await burst(count)).done;
      await sleep(300);
      bytes.push(allocated(from, statSync(target.log).size));
    }
    const [n1, n2] = options.counts;
    console.log(
      `${options.target}: ${((bytes[1] - bytes[0]) / (n2 - n1) / 1024).toFixed(
        1,
      )} KB allocated per stream of ${options.chunks} chunks (bursts of ${n1} and ${n2})`,
    );
  } finally {
    target.child.kill('SIGKILL');
    killNow(upstream.handle);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fusion-memory-'));
try {
  await (options.mode === 'alloc' ? allocMode(dir) : heapMode(dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
