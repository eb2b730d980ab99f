/**
 * Scale bench: N slow streams at once (20 chunks over 4 s each, like a model generating) through
 * `fusion serve` with its defaults, beside the minimal node:http proxy in the same run, for N =
 * 100, 1,000 and 5,000. Reports wall time, resident memory per open stream, memory 10 s after the
 * burst and errors, with PASS/MISS against the targets of issue 17. See bench/README.md.
 *
 *   npm run bench:scale                                # builds, raises `ulimit -n`, runs (~3 min)
 *   node bench/scale/run.mjs --counts 100,1000 --settle 5
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
const kb = (bytes) => (bytes / 1024).toFixed(1);

async function main() {
  const limit = openFileLimit();
  const largest = Math.max(...options.counts);
  // A gateway holds two sockets per stream; the client and upstream one each.
  if (!(limit >= 2 * largest + 256)) {
    console.warn(
      `warning: ulimit -n is ${limit}; ${largest} streams need ~${2 * largest + 256}. Run through npm run bench:scale, which raises it.`,
    );
  }
  const runs = [];
  for (const count of options.counts) {
    const upstream = await forkServer('slow upstream', join(here, 'slow-upstream.mjs'), [
      '--chunks',
      String(options.chunks),
      '--stream-ms',
      String(options.streamMs),
    ]);
    const row = { count };
    for (const name of options.targets) {
      const target = await startTarget(name, upstream);
      upstream.handle.child.send({ type: 'reset-peak' });
      process.stdout.write(`N=${count} ${name}... `);
      row[name] = await measureBurst(target, {
        count,
        chunks: options.chunks,
        warmup: Math.min(options.warmup, count),
        settleSeconds: options.settleSeconds,
        timeoutMs: options.streamMs * 10 + 60_000,
      });
      const measured = row[name];
      // Streams open at once: when they open slower than they last, fewer than N were ever open.
      measured.peakOpen = (await upstream.sample()).counters.peakOpen;
      console.log(
        `${(measured.wallMs / 1000).toFixed(2)} s, +${mb(measured.peakRss - measured.startRss)} MB peak, ${measured.errors} errors`,
      );
      if (target.handle.exited) {
        console.warn(`  ${name} exited during the run (${target.handle.exitCode}):\n${target.handle.output}`);
      }
      killNow(target.handle);
      await target.handle.exitPromise;
    }
    row.upstreamPeakOpen = (await upstream.sample()).counters.peakOpen;
    killNow(upstream.handle);
    runs.push(row);
  }
  report(runs);
  writeResults(resolve(repoRoot, options.out), {
    machine: machineInfo(repoRoot),
    date: new Date().toISOString(),
    options,
    targets: TARGETS,
    runs,
  });
  console.log(`\nwrote ${options.out}`);
}

function report(runs) {
  console.log(
    '\n| N | target | wall s | ×proxy | CPU µs/chunk | ×proxy | peak open | start MB | peak MB | KB/stream | ×proxy | MB after | after/start | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const checks = [];
  for (const row of runs) {
    const proxy = row.proxy;
    for (const name of options.targets) {
      const measured = row[name];
      const wallRatio = proxy ? measured.wallMs / proxy.wallMs : Number.NaN;
      const memoryRatio = proxy ? measured.perStreamBytes / proxy.perStreamBytes : Number.NaN;
      const cpuRatio = proxy ? measured.cpuMicrosPerChunk / proxy.cpuMicrosPerChunk : Number.NaN;
      console.log(
        `| ${row.count} | ${name} | ${(measured.wallMs / 1000).toFixed(2)} | ${wallRatio.toFixed(2)} | ${measured.cpuMicrosPerChunk.toFixed(1)} | ${cpuRatio.toFixed(2)} | ${measured.peakOpen} | ${mb(measured.startRss)} | ${mb(measured.peakRss)} | ${kb(measured.perStreamBytes)} | ${memoryRatio.toFixed(2)} | ${mb(measured.afterRss)} | ${measured.afterRatio.toFixed(2)} | ${measured.errors} |`,
      );
      if (name !== 'fusion' || !proxy) continue;
      const verdict = (pass) => (pass ? 'PASS' : 'MISS');
      checks.push(
        `${verdict(measured.errors === 0 && wallRatio <= TARGETS.wallRatio)} N=${row.count} wall ${wallRatio.toFixed(2)}× proxy (≤ ${TARGETS.wallRatio})`,
        `${verdict(memoryRatio <= TARGETS.perStreamRatio)} N=${row.count} RSS per open stream ${kb(measured.perStreamBytes)} KB = ${memoryRatio.toFixed(2)}× proxy (≤ ${TARGETS.perStreamRatio})`,
        // Below the start is fine (the warm-up's garbage was collected too): the target is giving back.
        `${verdict(measured.afterRatio <= 1 + TARGETS.afterWithin)} N=${row.count} RSS ${options.settleSeconds} s after = ${measured.afterRatio.toFixed(2)}× start (≤ ${1 + TARGETS.afterWithin})`,
        `${verdict(measured.errors === 0)} N=${row.count} errors ${measured.errors}${measured.errors ? ` ${JSON.stringify(measured.errorMessages)}` : ''}`,
      );
    }
  }
  console.log(`\n${checks.join('\n')}`);
}

process.on('exit', killAllNow);
for (const signalName of ['SIGINT', 'SIGTERM']) process.on(signalName, () => process.exit(130));
main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
