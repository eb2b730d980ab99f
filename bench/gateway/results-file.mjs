/**
 * Machine description and the results file: everything a later reader needs to trust or compare
 * a run (raw per-round numbers, medians, checks, options, machine, versions, date).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname } from 'node:path';
import { round } from './statistics.mjs';

function gitCommit(cwd) {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

function autocannonVersion() {
  try {
    const require = createRequire(import.meta.url);
    return JSON.parse(readFileSync(require.resolve('autocannon/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** What ran the bench: CPUs, memory, load before the run, Node and autocannon versions, commit. */
export function machineInfo(repoRoot) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    cpuMhz: cpus[0]?.speed ?? null,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverage: os.loadavg().map((value) => round(value, 2)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    autocannon: autocannonVersion(),
    gitCommit: gitCommit(repoRoot),
  };
}

/** Writes JSON through a `.tmp` file and a rename, so a crash never leaves half a file. */
export function writeResults(path, results) {
  mkdirSync(dirname(path), { recursive: true });
  const text = JSON.stringify(
    results,
    (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? round(value, 4) : value),
    2,
  );
  writeFileSync(`${path}.tmp`, `${text}\n`);
  renameSync(`${path}.tmp`, path);
}
