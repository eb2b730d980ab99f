/**
 * Scale bench: N slow streams at once (20 chunks over 4 s each, like a model generating) through
 * `fusion serve` with its defaults, beside the minimal node:http proxy in the same run, for N =
 * 100, 1,000 and 5,000. Reports wall time, resident memory per open stream, memory 10 s after the
 * burst and errors, with PASS/MISS against the targets of issue 17. See bench/README.md.
 *
 * One burst on a shared 2-core machine is as much the machine's weather as the code's, so each N is
 * measured `--repeat` (3) times, proxy and fusion in turn, each time with fresh processes; the
 * verdicts use medians and print the spread of the repetitions beside them (./scale-report.mjs).
 *
 *   npm run bench:scale                                # builds, raises `ulimit -n`, runs (~7 min)
 *   node bench/scale/run.mjs --counts 100,1000 --settle 5 --repeat 1
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { waitForHttp } from '../gateway/http-once.mjs';
import { machineInfo, writeResults } from '../gateway/results-file.mjs';
import { forkServer, killAllNow, killNow, spawnServer, stopAll } from '../gateway/server-processes.mjs';
import { measureBurst } from './measure-burst.mjs';
import { checkLines, markdownTable, summarize } from './scale-report.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../..');

function option(name, environmentName, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index !== -1 && process.argv[index + 1] !== undefined) return process.argv[index + 1];
  return process.env[environmentName] ?? fallback;
}

const options = {
  counts: option('counts', 'BENCH_COUNTS', '100,1000,5000').split(',').map(Number),
  chunks: Number(option('chunks', 'BENCH_CHUNKS', '20')),
  streamMs: Number(option('stream-ms', 'BENCH_STREAM_MS', '4000')),
  settleSeconds: Number(option('settle', 'BENCH_SETTLE', '10')),
  warmup: Number(option('warmup', 'BENCH_WARMUP', '50')),
  // An agent's conversation so far: the prompt an open stream carries.
  promptBytes: Number(option('prompt-bytes', 'BENCH_PROMPT_BYTES', '0')),
  targets: option('targets', 'BENCH_TARGETS', 'proxy,fusion').split(','),
  repeat: Number(option('repeat', 'BENCH_REPEAT', '3')),
  gatewayBin: option('gateway-bin', 'BENCH_GATEWAY_BIN', 'packages/cli/dist/bin.js'),
  out: option('out', 'BENCH_OUT', 'bench/results/scale.json'),
};
const TARGETS = { wallRatio: 1.15, perStreamRatio: 2, afterWithin: 0.2 };

function openFileLimit() {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

const body = (model) =>
  JSON.stringify({
    model,
    messages: [
      ...(options.promptBytes > 0 ? [{ role: 'user', content: 'x'.repeat(options.promptBytes) }] : []),
      { role: 'user', content: 'Tell me a slow story.' },
    ],
    max_tokens: 64,
    stream: true,
  });

async function startTarget(name, upstream) {
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  if (name === 'proxy') {
    // The same socket limit as fusion serve's default: none.
    const proxy = await forkServer('minimal proxy', join(here, '../gateway/minimal-proxy.mjs'), [
      '--upstream',
      upstreamUrl,
      '--max-sockets',
      'Infinity',
    ]);
    return {
      name,
      pid: proxy.pid,
      handle: proxy.handle,
      url: `http://127.0.0.1:${proxy.port}/v1`,
      body: body('bench-model'),
    };
  }
  const bin = resolve(repoRoot, options.gatewayBin);
  if (!existsSync(bin)) throw new Error(`${options.gatewayBin} not found: npm run build`);
  const gateway = spawnServer('fusion serve', bin, ['serve'], {
    ...process.env,
    FUSION_UPSTREAMS: `bench=${upstreamUrl}/v1`,
    FUSION_PORT: '0',
    FUSION_HOST: '127.0.0.1',
  });
  // Port 0 and the address it prints: no race with other programs for a port picked in advance.
  const deadline = Date.now() + 30_000;
  let listening;
  while (!(listening = /listening on (http:\/\/\S+)/.exec(gateway.handle.output))) {
    if (gateway.handle.exited || Date.now() > deadline)
      throw new Error(`fusion serve did not start:\n${gateway.handle.output}`);
    await sleep(100);
  }
  const origin = listening[1];
  await waitForHttp(`${origin}/health`, { timeoutMs: 30_000, isGone: () => gateway.handle.exited });
  return {
    name,
    pid: gateway.pid,
    handle: gateway.handle,
    url: `${origin}/v1`,
    body: body('bench/bench-model'),
  };
}

const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);

/**
 * One repetition at one N: a fresh slow upstream, then each target in turn, each freshly started,
 * so that a slow spell of the machine falls on both targets of a pair rather than on one.
 */
async function measureRepetition(count, repetition) {
  const upstream = await forkServer('slow upstream', join(here, 'slow-upstream.mjs'), [
    '--chunks',
    String(options.chunks),
    '--stream-ms',
    String(options.streamMs),
  ]);
  const measurements = { repetition };
  // Every other repetition in the opposite order, so that going first (a cooler machine, a warmer
  // page cache) does not always favour the same target.
  const order = repetition % 2 === 1 ? options.targets : [...options.targets].reverse();
  for (const name of order) {
    const target = await startTarget(name, upstream);
    upstream.handle.child.send({ type: 'reset-peak' });
    process.stdout.write(`N=${count} run ${repetition}/${options.repeat} ${name}... `);
    const measured = await measureBurst(target, {
      count,
      chunks: options.chunks,
      warmup: Math.min(options.warmup, count),
      settleSeconds: options.settleSeconds,
      timeoutMs: options.streamMs * 10 + 60_000,
    });
    // Streams open at once: when they open slower than they last, fewer than N were ever open.
    measured.peakOpen = (await upstream.sample()).counters.peakOpen;
    measurements[name] = measured;
    console.log(
      `${(measured.wallMs / 1000).toFixed(2)} s, +${mb(measured.peakRss - measured.startRss)} MB peak, ${measured.errors} errors`,
    );
    if (target.handle.exited) {
      console.warn(`  ${name} exited during the run (${target.handle.exitCode}):\n${target.handle.output}`);
    }
    killNow(target.handle);
    await target.handle.exitPromise;
  }
  measurements.upstreamPeakOpen = (await upstream.sample()).counters.peakOpen;
  killNow(upstream.handle);
  return measurements;
}

async function main() {
  const limit = openFileLimit();
  const largest = Math.max(...options.counts);
  // A gateway holds two sockets per stream; the client and upstream one each.
  if (!(limit >= 2 * largest + 256)) {
    console.warn(
      `warning: ulimit -n is ${limit}; ${largest} streams need ~${2 * largest + 256}. Run through npm run bench:scale, which raises it.`,
    );
  }
  if (!(Number.isInteger(options.repeat) && options.repeat >= 1))
    throw new Error(`--repeat must be a whole number ≥ 1, not ${options.repeat}`);
  const runs = [];
  for (const count of options.counts) {
    const repetitions = [];
    for (let repetition = 1; repetition <= options.repeat; repetition++)
      repetitions.push(await measureRepetition(count, repetition));
    runs.push({ count, repetitions, ...summarize(repetitions, options.targets) });
  }
  console.log(
    `\nMedians over ${options.repeat} runs per N and target; ×proxy is the median of the per-pair ratios.\n`,
  );
  console.log(markdownTable(runs, options.targets));
  console.log(`\n${checkLines(runs, TARGETS, options.settleSeconds)}`);
  writeResults(resolve(repoRoot, options.out), {
    machine: machineInfo(repoRoot),
    date: new Date().toISOString(),
    options,
    targets: TARGETS,
    runs,
  });
  console.log(`\nwrote ${options.out}`);
}

process.on('exit', killAllNow);
for (const signalName of ['SIGINT', 'SIGTERM']) process.on(signalName, () => process.exit(130));
main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
