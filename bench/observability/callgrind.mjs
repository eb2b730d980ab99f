/**
 * Instructions per request of `fusion serve` with metrics off, metrics on, and metrics + tracing,
 * counted by valgrind's callgrind: a measure of CPU per request that a loaded machine does not skew
 * (the wall and CPU times of `bench/gateway/run.mjs --observability-rows 1` do).
 *
 * `node bench/observability/callgrind.mjs [--variants=off,metrics,tracing] (also: sqlite; proxy: the gateway bench's minimal proxy, for a ratio to the floor) [--warmup=1500]
 * [--requests=2000] [--segments=2] [--protocol=http/json|http/protobuf] [--out=/tmp/fusion-callgrind]
 * [--node-flags='…'] [--connections=1] [--stream] [--json=file] [--mode=callgrind|allocations|cpu-prof]` (needs `valgrind` and a built CLI;
 * about five minutes per variant on an idle core). `--mode=allocations` runs the gateway natively
 * and counts bytes allocated per request instead, and the bytes young collections promoted to the
 * old generation; `--mode=cpu-prof` also writes a `--cpu-prof`
 * profile per variant under `--out`.
 *
 * Each variant is one `node packages/cli/dist/bin.js serve` under callgrind, in front of the gateway
 * bench's mock upstream (its own process) and its OTLP sink (in this process, answering 200 and
 * counting spans). `--warmup` keep-alive chats (`--connections` at a time: 64 is the gateway bench's
 * load, where more requests and spans are alive at once), a wait for the batch span exporter to flush and a full collection, then
 * `--segments` stretches of `--requests` chats, each followed by the flush, a callgrind dump (its
 * instructions over `--requests` are the instructions per request, export included) and a full
 * collection counted apart (the table shows both without and with it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chatBody } from '../gateway/bench-targets.mjs';
import { httpOnce, waitForHttp } from '../gateway/http-once.mjs';
import { startOtlpSink } from '../gateway/observability-rows.mjs';
import { forkServer, killNow } from '../gateway/server-processes.mjs';
import { median } from '../gateway/statistics.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../..');
const option = (name, fallback) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const variants = option('variants', 'off,metrics,tracing').split(',');
const warmup = Number(option('warmup', 1500));
const requests = Number(option('requests', 2000));
const protocol = option('protocol', 'http/json');
const out = option('out', '/tmp/fusion-callgrind');
/** Also write the rows as JSON to this file (what `bench/gateway/run.mjs --observability-rows 1` reads). */
const jsonPath = option('json', undefined);
/** `callgrind` (instructions), `allocations` (bytes, natively) or `cpu-prof` (bytes, and a `--cpu-prof` profile per variant under `--out`). */
const mode = option('mode', 'callgrind');
/**
 * V8 flags of the gateway. Under callgrind, by default `--single-threaded --no-memory-reducer`: V8's
 * compiler and GC threads would do a varying share of the work from run to run (all threads are
 * counted), and the memory reducer collects when the server idles (as it does while waiting for the
 * exporter). Besides, a full collection ends the warm-up and every stretch (`collect-on-signal.mjs`).
 */
const nodeFlags = [
  ...option('node-flags', mode === 'callgrind' ? '--single-threaded --no-memory-reducer' : '')
    .split(' ')
    .filter(Boolean),
  '--expose-gc',
  '--import',
  pathToFileURL(join(here, 'collect-on-signal.mjs')).href,
];
/** Streamed chats (the mock upstream's 64 chunks) instead of whole answers. */
const stream = process.argv.includes('--stream');
/** Chats in flight at once, each on its own keep-alive connection. */
const connections = Number(option('connections', 1));
/** Measured stretches of `--requests` each, after the warm-up: the table shows their median. */
const segments = Number(option('segments', 2));
/**
 * `OTEL_BSP_SCHEDULE_DELAY` of the gateway, ms. Long by default: under callgrind a request takes
 * 50 times as long, so the 5 s default would export a batch every few dozen spans, where a loaded
 * server exports full batches of 512 spans.
 */
const batchDelayMs = option('batch-delay-ms', '600000');
const unit = mode === 'callgrind' ? 'instructions' : 'bytes allocated';

const VARIANT_ENV = {
  off: { FUSION_METRICS: '0', FUSION_TRACING: '0' },
  // Metrics off with `fusion serve`'s default state, SQLite (in a folder of its own under `--out`),
  // where the other variants keep their state in memory: what the state store costs per request.
  sqlite: {
    FUSION_METRICS: '0',
    FUSION_TRACING: '0',
    FUSION_STATE: 'sqlite',
    FUSION_STATE_DIR: join(out, 'state'),
  },
  metrics: { FUSION_METRICS: '1', FUSION_TRACING: '0' },
  tracing: { FUSION_METRICS: '1', FUSION_TRACING: '1', OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
};

function freePort() {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Waits until the sink has seen no new export for `quietMs` (the batch processor's 5 s delay, plus slack). */
async function waitForFlush(sink, quietMs = 8000) {
  let seen = sink.exports();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await sleep(500);
    if (sink.exports() !== seen) {
      seen = sink.exports();
      since = Date.now();
    }
  }
}

/** What a function's instructions are spent on, by its name: V8's optimizing compiler, its GCs, or the rest. */
const KINDS = [
  ['compile', /v8::internal::(compiler|maglev)::|Compil/],
  ['scavenge', /Scaveng|Semi[Ss]pace/],
  ['full GC', /Mark(ing|Compact)|Sweep|Evacuat|Compactor|LiveObject|RecordMigrated/],
];

/**
 * The instructions of one callgrind dump by kind of work ({@link KINDS}, and `rest`): each function's
 * own cost (a `calls=` line's next line is the callee's inclusive cost, not the caller's).
 */
function instructionsByKind(text) {
  const names = new Map();
  const byKind = { compile: 0, scavenge: 0, 'full GC': 0, rest: 0 };
  let kind = 'rest';
  let skipNext = false;
  for (const line of text.split('\n')) {
    const named = /^(c?)fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[3] !== undefined) names.set(named[2], named[3]);
      if (named[1] === '') {
        const name = names.get(named[2]) ?? '';
        kind = KINDS.find(([, pattern]) => pattern.test(name))?.[0] ?? 'rest';
      }
      continue;
    }
    if (line.startsWith('calls=')) {
      skipNext = true;
      continue;
    }
    if (/^[\d+*-]/.test(line)) {
      if (skipNext) skipNext = false;
      else byKind[kind] += Number(line.split(' ')[1] ?? 0);
    }
  }
  return byKind;
}

/**
 * Asks callgrind in process `pid` to dump (and zero) its counters; returns the dump's instructions:
 * all threads', the main thread's alone (the others compile and collect garbage concurrently), and
 * all threads' by kind of work.
 */
function dump(pid, prefix) {
  const before = new Set(readdirSync(out));
  const result = spawnSync('callgrind_control', ['-d', String(pid)], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`callgrind_control: ${result.stderr || result.stdout}`);
  const files = readdirSync(out).filter((name) => name.startsWith(prefix) && !before.has(name));
  if (files.length === 0) throw new Error(`no new callgrind dump for ${prefix}`);
  let total = 0;
  let main = 0;
  const kinds = { compile: 0, scavenge: 0, 'full GC': 0, rest: 0 };
  for (const file of files) {
    const text = readFileSync(join(out, file), 'utf8');
    const ir = Number(/^(?:summary|totals): (\d+)/m.exec(text)[1]);
    total += ir;
    if (/^thread: 1$/m.test(text)) main += ir;
    for (const [kind, count] of Object.entries(instructionsByKind(text))) kinds[kind] += count;
  }
  return { total, main, kinds };
}

/**
 * The gateway process of one variant, and `count()`: what it spent since the last `count()`
 * (instructions under callgrind; bytes allocated, from `--trace-gc-nvp`'s `allocated=`, natively).
 */
function launch(variant, env) {
  const prefix = `cg.${variant}`;
  // The minimal proxy of the gateway bench (its floor) in place of `fusion serve`, for a ratio to it;
  // it reads its upstream and port from PROXY_UPSTREAM and PROXY_PORT.
  const program =
    variant === 'proxy'
      ? [join(here, '../gateway/minimal-proxy.mjs')]
      : [join(repoRoot, 'packages/cli/dist/bin.js'), 'serve'];
  const child =
    mode === 'callgrind'
      ? spawn(
          'valgrind',
          [
            '--tool=callgrind',
            '--separate-threads=yes',
            `--callgrind-out-file=${join(out, `${prefix}.%p`)}`,
            process.execPath,
            ...nodeFlags,
            ...program,
          ],
          { env, stdio: ['ignore', 'ignore', 'pipe'] },
        )
      : spawn(
          process.execPath,
          [
            ...nodeFlags,
            '--trace-gc-nvp',
            ...(mode === 'cpu-prof' ? ['--cpu-prof', `--cpu-prof-dir=${join(out, `prof.${variant}`)}`] : []),
            ...program,
          ],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
  let stderr = '';
  let collections = 0;
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
    collections += String(chunk).split('collected\n').length - 1;
  });
  /** A full collection in the gateway (SIGUSR2), waited for. */
  const collect = async () => {
    const before = collections;
    child.kill('SIGUSR2');
    while (collections === before) await sleep(100);
    // The collection's own `--trace-gc-nvp` line comes on stdout, maybe after `collected`.
    await sleep(500);
  };
  let allocated = 0;
  // Bytes young collections moved to the old generation: what lived through two of them.
  let promoted = 0;
  let partial = '';
  child.stdout?.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const match = / allocated=(\d+)/.exec(line);
      if (match) allocated += Number(match[1]);
      const promotion = / gc=s .* promoted=(\d+)/.exec(line);
      if (promotion) promoted += Number(promotion[1]);
    }
  });
  return {
    child,
    stderr: () => stderr,
    async count() {
      if (mode === 'callgrind') {
        // The stretch, then the full collection that closes it, counted apart.
        const stretch = dump(child.pid, prefix);
        await collect();
        const collection = dump(child.pid, prefix);
        return {
          total: stretch.total,
          main: stretch.main,
          collection: collection.total,
          kinds: stretch.kinds,
        };
      }
      await collect();
      const counted = allocated;
      const countedPromoted = promoted;
      allocated = 0;
      promoted = 0;
      return { total: counted, main: counted, collection: 0, kinds: undefined, promoted: countedPromoted };
    },
  };
}

async function measure(variant, upstream, sink) {
  const port = await freePort();
  const gateway = launch(variant, {
    ...process.env,
    PROXY_UPSTREAM: `http://127.0.0.1:${upstream.port}`,
    PROXY_PORT: String(port),
    FUSION_UPSTREAMS: `bench=http://127.0.0.1:${upstream.port}/v1`,
    FUSION_PORT: String(port),
    FUSION_HOST: '127.0.0.1',
    FUSION_STATE: 'memory',
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_SERVICE_NAME: 'fusion-bench',
    OTEL_BSP_SCHEDULE_DELAY: batchDelayMs,
    ...VARIANT_ENV[variant],
  });
  const { child } = gateway;
  try {
    // The proxy answers `/health` from the mock upstream behind it.
    await waitForHttp(`http://127.0.0.1:${port}/health`, {
      timeoutMs: 300_000,
      isGone: () => child.exitCode !== null,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    const body = chatBody(variant === 'proxy' ? 'bench-model' : 'bench/bench-model', stream);
    const send = async (count) => {
      let sent = 0;
      const client = async () => {
        while (sent < count) {
          sent++;
          const result = await httpOnce({ url, body, agent, timeoutMs: 120_000 });
          if (result.status !== 200) throw new Error(`${variant} answered ${result.status}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(connections, count) }, client));
    };
    await send(warmup);
    await waitForFlush(sink);
    await gateway.count();
    const exportsBefore = sink.exports();
    const spansBefore = sink.spans();
    const totals = [];
    const mains = [];
    const collections = [];
    const stretchKinds = [];
    const promotions = [];
    for (let segment = 0; segment < segments; segment++) {
      await send(requests);
      await waitForFlush(sink);
      const { total, main, collection, kinds, promoted } = await gateway.count();
      if (kinds) stretchKinds.push(kinds);
      if (promoted !== undefined) promotions.push(promoted / requests);
      totals.push(total / requests);
      mains.push(main / requests);
      collections.push(collection / requests);
      console.error(
        `${variant} stretch ${segment + 1}: ${(total / requests).toFixed(0)} ${unit}/request (main thread ${(main / requests).toFixed(0)}, closing collection ${(collection / requests).toFixed(0)})`,
      );
    }
    agent.destroy();
    return {
      variant,
      perRequest: median(totals),
      // Each stretch's total with its closing collection, without V8's optimizing compiler, which a
      // long-running server has done with (a few thousand requests under callgrind have not): the
      // steady state a loaded server runs in, stretch by stretch to show how far they spread.
      steadyStretches: stretchKinds.map(
        (kinds, index) => totals[index] - kinds.compile / requests + collections[index],
      ),
      mainPerRequest: median(mains),
      collectionPerRequest: median(collections),
      // `--mode=allocations`: bytes promoted to the old generation per request (a server should
      // promote next to nothing: a request's objects die young).
      promotedPerRequest: promotions.length > 0 ? median(promotions) : undefined,
      // By kind of work: the median of each kind over the stretches.
      kindsPerRequest:
        stretchKinds.length > 0
          ? Object.fromEntries(
              Object.keys(stretchKinds[0]).map((kind) => [
                kind,
                median(stretchKinds.map((kinds) => kinds[kind] / requests)),
              ]),
            )
          : undefined,
      exports: sink.exports() - exportsBefore,
      spans: sink.spans() - spansBefore,
    };
  } catch (error) {
    throw new Error(`${error.message}\n${gateway.stderr()}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', done)));
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const upstream = await forkServer('mock upstream', join(here, '../gateway/mock-upstream.mjs'));
const sink = await startOtlpSink();
const rows = [];
try {
  for (const variant of variants) {
    const row = await measure(variant, upstream, sink);
    rows.push(row);
  }
} finally {
  killNow(upstream.handle);
  await sink.close();
}
if (jsonPath) {
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ mode, unit, stream, connections, warmup, requests, segments, protocol, rows }, null, 2)}\n`,
  );
}
const base = rows.find((row) => row.variant === 'off');
const withCollection = (row) => row.perRequest + row.collectionPerRequest;
console.log(
  `| variant | ${unit}/request | × off | with the closing collection | × off | OTLP exports | spans (JSON) |\n|${' --- |'.repeat(7)}`,
);
for (const row of rows) {
  const times = (value, baseValue) => (base ? `${(value / baseValue).toFixed(3)}×` : '–');
  console.log(
    `| ${row.variant} | ${row.perRequest.toFixed(0)} | ${times(row.perRequest, base?.perRequest)} | ${withCollection(row).toFixed(0)} | ${base ? times(withCollection(row), withCollection(base)) : '–'} | ${row.exports} | ${row.spans} |`,
  );
}
if (rows.every((row) => row.promotedPerRequest !== undefined)) {
  console.log(`\n| variant | bytes promoted/request |\n|${' --- |'.repeat(2)}`);
  for (const row of rows) console.log(`| ${row.variant} | ${row.promotedPerRequest.toFixed(0)} |`);
}
if (rows.every((row) => row.kindsPerRequest)) {
  // Compilation and full collections come in lumps (a function reoptimized, one mark-compact in a
  // stretch or none): the rest is the steadiest measure of the work per request.
  const kinds = Object.keys(rows[0].kindsPerRequest);
  console.log(`\n| variant | ${kinds.join(' | ')} | rest × off |\n|${' --- |'.repeat(kinds.length + 2)}`);
  for (const row of rows) {
    const rest = base ? `${(row.kindsPerRequest.rest / base.kindsPerRequest.rest).toFixed(3)}×` : '–';
    console.log(
      `| ${row.variant} | ${kinds.map((kind) => row.kindsPerRequest[kind].toFixed(0)).join(' | ')} | ${rest} |`,
    );
  }
}
console.log(
  `\n${warmup} warm-up ${stream ? 'streamed ' : ''}chats, then the median of ${segments} stretches of ${requests}, ${connections} at a time; tracing over OTLP ${protocol}.`,
);
