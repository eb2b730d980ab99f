/**
 * One loaded measurement with autocannon (programmatic API, in this process): a warm-up run, then
 * a time-bounded run while the target's CPU is sampled before and after.
 *
 * - req/s: 2xx responses completed in the measured run / its duration.
 * - p50/p99: from every 2xx response time (µs-precise floats from autocannon's `response` event;
 *   autocannon's own histogram keeps whole milliseconds, kept in `autocannon` for reference).
 * - CPU µs/req: the server process's CPU delta over the run / 2xx responses, for the target and,
 *   behind a proxy, separately for the upstream.
 * - upstreamRequests: chats the mock answered during the run; at least `completed`, or the target
 *   answered some requests without the upstream (a cache, say) and the comparison is void.
 * - machineBusyPercent / stealPercent: whole-machine CPU use and hypervisor steal over the run
 *   (`/proc/stat`), to tell a noisy round (a neighbour, a concurrent build) from a real change.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { percentile } from './statistics.mjs';

/**
 * @param {object} options
 * @param {{ url: string, cpuMicros: () => Promise<number | undefined>, procCpuMicros: () => number | undefined, upstreamCpuMicros?: () => Promise<number>, upstreamRequests: () => Promise<number> }} options.target
 * @param {string} options.body request body (JSON text), POSTed on every request
 * @param {number} options.connections
 * @param {number} options.durationSeconds
 * @param {number} options.warmupSeconds
 */
export async function measureUnderLoad({ target, body, connections, durationSeconds, warmupSeconds }) {
  const common = {
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    timeout: 10,
  };
  if (warmupSeconds > 0) await autocannon({ ...common, duration: warmupSeconds });

  const machineBefore = machineCpuTimes();
  const before = await sampleCpu(target);
  const latencies = [];
  const run = autocannon({ ...common, duration: durationSeconds });
  run.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await run;
  const after = await sampleCpu(target);
  const machineAfter = machineCpuTimes();

  const completed = result['2xx'];
  const perRequest = (key) =>
    before[key] === undefined || after[key] === undefined
      ? undefined
      : (after[key] - before[key]) / completed;
  return {
    completed,
    durationSeconds: result.duration,
    reqPerSec: completed / result.duration,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuUsPerRequest: perRequest('cpu'),
    cpuProcUsPerRequest: perRequest('proc'),
    upstreamCpuUsPerRequest: perRequest('upstream'),
    upstreamRequests: after.upstreamRequests - before.upstreamRequests,
    ...machineLoad(machineBefore, machineAfter),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    autocannon: {
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      averageReqPerSec: result.requests.average,
    },
  };
}

/** The aggregate `cpu` line of `/proc/stat` (clock ticks), or undefined off Linux. */
function machineCpuTimes() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = fields;
    return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
  } catch {
    return undefined;
  }
}

function machineLoad(before, after) {
  if (!before || !after) return {};
  const busy = after.busy - before.busy;
  const steal = after.steal - before.steal;
  const total = busy + steal + (after.idle - before.idle);
  return total > 0 ? { machineBusyPercent: (100 * busy) / total, stealPercent: (100 * steal) / total } : {};
}

async function sampleCpu(target) {
  return {
    cpu: await target.cpuMicros(),
    proc: target.procCpuMicros(),
    upstream: await target.upstreamCpuMicros?.(),
    upstreamRequests: await target.upstreamRequests(),
  };
}
