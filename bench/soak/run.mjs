/**
 * Soak: `npm run bench:soak` (builds first).
 *
 * `fusion serve` (metrics on, FUSION_DIAGNOSTICS=1, memory state) in front of the gateway bench's
 * mock upstream, driven at a fixed rate (open loop: a request starts every 1/rate s whether or not
 * the previous ones ended) for `--duration` seconds, half chats and half 64-chunk streams. Every
 * `--every` seconds it prints the window's p50/p99 (to the last byte) and the gateway's heap (from
 * /internal/diagnostics), RSS and open file descriptors (/proc/<pid>/fd); the table ends with the
 * start and end values, and the JSON goes to bench/results/soak.json. A leak shows as heap, RSS or
 * fds that grow from window to window at a steady rate; a bench reports, it never fails the build.
 *
 *   node bench/soak/run.mjs --duration 60 --rate 50 --every 10
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatBody, smokeCheck, startGatewayTarget, startMock } from '../gateway/bench-targets.mjs';
import { httpOnce } from '../gateway/http-once.mjs';
import { machineInfo, writeResults } from '../gateway/results-file.mjs';
import { killAllNow, stopAll } from '../gateway/server-processes.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const option = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const durationSeconds = option('duration', Number(process.env.BENCH_SOAK_DURATION ?? 60));
const rate = option('rate', Number(process.env.BENCH_SOAK_RATE ?? 50));
const everySeconds = option('every', 10);

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

const percentile = (values, p) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const mib = (bytes) => bytes / 2 ** 20;

function processState(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { rssBytes: rssKb * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}

async function sample(gateway, base, latencies, errors, sent) {
  const diagnostics = await httpOnce({ url: `${base}/internal/diagnostics`, keepBody: true });
  const memory = JSON.parse(diagnostics.body).process.memory;
  const { rssBytes, fds } = processState(gateway.pid);
  return {
    sent,
    errors,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    heapUsedMiB: mib(memory.heap_used),
    rssMiB: mib(rssBytes),
    fds,
  };
}

const mock = await startMock();
process.env.FUSION_DIAGNOSTICS = '1';
process.env.FUSION_STATE = 'memory';
const gateway = await startGatewayTarget(mock, {
  repoRoot,
  gatewayBin: 'packages/cli/dist/bin.js',
  startupTimeoutSeconds: 30,
});
if (gateway.skipped) {
  console.error(gateway.skipped);
  await stopAll();
  process.exit(1);
}
await smokeCheck(gateway);
const base = new URL(gateway.url).origin;
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const bodies = [chatBody(gateway.model, false), chatBody(gateway.model, true)];

const start = await sample(gateway, base, [], 0, 0);
const windows = [];
let latencies = [];
let allLatencies = [];
let errors = 0;
let sent = 0;
let inFlight = 0;
let maxInFlight = 0;
const startedAt = performance.now();
const intervalMs = 1000 / rate;
const pending = new Set();

console.log(
  `soak: ${rate} req/s for ${durationSeconds} s through fusion serve (pid ${gateway.pid}), machine load ${machineInfo(repoRoot).loadAverage.join(' ')}`,
);
console.log('| t (s) | sent | errors | p50 ms | p99 ms | heap MiB | RSS MiB | open fds |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const row = (label, s) =>
  console.log(
    `| ${label} | ${s.sent} | ${s.errors} | ${s.p50Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.heapUsedMiB.toFixed(1)} | ${s.rssMiB.toFixed(1)} | ${s.fds} |`,
  );
row('start', start);

let nextWindow = everySeconds * 1000;
for (let index = 0; ; index++) {
  const due = startedAt + index * intervalMs;
  if (due - startedAt >= durationSeconds * 1000) break;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  sent++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const call = httpOnce({ url: gateway.url, body: bodies[index % 2], agent, timeoutMs: 30_000 })
    .then(
      (result) => {
        if (result.status !== 200) errors++;
        else latencies.push(result.lastByteMs);
      },
      () => errors++,
    )
    .finally(() => {
      inFlight--;
      pending.delete(call);
    });
  pending.add(call);
  if (performance.now() - startedAt >= nextWindow) {
    const window = await sample(gateway, base, latencies, errors, sent);
    windows.push({ t: nextWindow / 1000, ...window });
    row(String(nextWindow / 1000), window);
    allLatencies = allLatencies.concat(latencies);
    latencies = [];
    nextWindow += everySeconds * 1000;
  }
}
await Promise.all(pending);
allLatencies = allLatencies.concat(latencies);
await new Promise((resolve) => setTimeout(resolve, 1000));
const end = await sample(gateway, base, allLatencies, errors, sent);
row('end (whole run)', end);
console.log(
  `\nstart → end: heap ${start.heapUsedMiB.toFixed(1)} → ${end.heapUsedMiB.toFixed(1)} MiB, RSS ${start.rssMiB.toFixed(1)} → ${end.rssMiB.toFixed(1)} MiB, fds ${start.fds} → ${end.fds}; ${sent} requests, ${errors} errors, at most ${maxInFlight} in flight`,
);
writeResults(join(repoRoot, 'bench/results/soak.json'), {
  machine: machineInfo(repoRoot),
  options: { durationSeconds, rate, everySeconds },
  start,
  windows,
  end,
  maxInFlight,
});
agent.destroy();
await stopAll();
