/**
 * One measurement of the scale bench: a warm-up, then `count` slow streams at once from the burst
 * client, with the target's resident memory read from `/proc/<pid>/status` before, during (every
 * 100 ms, and when every stream is open) and `settleSeconds` after the burst, and its CPU time
 * (`/proc/<pid>/stat`) during the burst.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { procCpuMicros } from '../gateway/server-processes.mjs';

const CLIENT = new URL('./burst-client.mjs', import.meta.url);

/** Resident set size of a process in bytes, or undefined when it is gone. */
export function rssBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function startClient() {
  const child = fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (message) => (message?.type === 'ready' ? resolve() : reject(new Error('client'))));
    child.once('exit', (code) => reject(new Error(`burst client exited with ${code}`)));
  });
  return { child, ready };
}

function runBurst(child, request, onAllOpen) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type === 'all-open') onAllOpen();
      if (message?.type !== 'burst-done') return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type: 'burst', ...request });
  });
}

/**
 * @param {{ url: string, pid: number, body: string }} target
 * @param {{ count: number, chunks: number, warmup: number, settleSeconds: number, timeoutMs: number }} options
 */
export async function measureBurst(target, options) {
  const { child, ready } = startClient();
  try {
    await ready;
    const request = { url: target.url, body: target.body, timeoutMs: options.timeoutMs };
    // Warm-up: code paths compiled and pools filled once, so the burst measures streams, not startup.
    const warmup = await runBurst(child, { ...request, count: options.warmup }, () => {});
    await sleep(1000);
    const startRss = rssBytes(target.pid);
    let peakRss = startRss;
    let allOpenRss;
    const startCpu = procCpuMicros(target.pid);
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssBytes(target.pid) ?? 0);
    }, 100);
    const result = await runBurst(child, { ...request, count: options.count }, () => {
      allOpenRss = rssBytes(target.pid);
      peakRss = Math.max(peakRss, allOpenRss ?? 0);
    });
    clearInterval(sampler);
    const cpuMicros = procCpuMicros(target.pid) - startCpu;
    const endRss = rssBytes(target.pid);
    await sleep(options.settleSeconds * 1000);
    const afterRss = rssBytes(target.pid);
    return {
      count: options.count,
      wallMs: result.wallMs,
      lastFirstByteMs: result.lastFirstByteMs,
      ok: result.ok,
      errors: result.errors,
      statuses: result.statuses,
      errorMessages: result.errorMessages,
      warmupErrors: warmup.errors,
      cpuMicros,
      cpuMicrosPerChunk: cpuMicros / (options.count * options.chunks),
      startRss,
      allOpenRss,
      peakRss,
      endRss,
      afterRss,
      perStreamBytes: (peakRss - startRss) / options.count,
      afterRatio: afterRss / startRss,
    };
  } finally {
    child.kill('SIGKILL');
  }
}
