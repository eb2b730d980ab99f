#!/usr/bin/env node
/**
 * `npm test`'s first step: makes sure the machine has what the suite needs beyond npm packages.
 *
 * - node-mlx (`@fusionkit/mlx`) links Debian's LAPACK/BLAS (OpenBLAS makes its CPU prefill ~15x
 *   faster);
 * - the Redis state tests start `redis-server` when no Redis answers on 127.0.0.1:6379;
 * - the Next.js example's page is checked in headless Chromium (Debian's package: no browser is
 *   ever downloaded).
 *
 * On Linux, what is missing is installed with apt when this runs as root; otherwise it stops at once
 * with one message naming the packages and the command. Elsewhere (macOS) node-mlx needs no system
 * library and the browser is found through `FUSION_CHROMIUM`. `FUSION_SKIP_SYSTEM_PACKAGES=1` skips
 * the check (the tests that need a package then fail with the loader's message).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each requirement: how to tell it is there, and the Debian packages that provide it. */
const REQUIREMENTS = [
  { what: 'LAPACK for node-mlx', present: () => hasLibrary('liblapack.so.3'), packages: ['liblapack3'] },
  { what: 'BLAS for node-mlx', present: () => hasLibrary('libblas.so.3'), packages: ['libblas3'] },
  {
    what: 'gfortran runtime for LAPACK',
    present: () => hasLibrary('libgfortran.so.5'),
    packages: ['libgfortran5'],
  },
  {
    what: 'OpenBLAS (fast CPU prefill)',
    present: () => hasLibrary('libopenblas.so.0'),
    packages: ['libopenblas0-pthread'],
  },
  {
    what: 'Redis for the state tests',
    present: () => onPath('redis-server'),
    packages: ['redis-server'],
  },
  {
    what: 'Chromium for the browser tests',
    present: () => chromiumPath() !== undefined,
    packages: ['chromium'],
  },
];

function main() {
  if (process.env.FUSION_SKIP_SYSTEM_PACKAGES === '1' || process.platform !== 'linux') return 0;
  const missing = REQUIREMENTS.filter((requirement) => !requirement.present());
  if (missing.length === 0) return 0;
  const packages = missing.flatMap((requirement) => requirement.packages);
  const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  const reasons = missing.map((requirement) => requirement.what).join(', ');

  if (!onPath('apt-get')) {
    return stop(
      `The tests need ${reasons}: this machine has no apt-get. Install the equivalents of: ${packages.join(' ')}.`,
    );
  }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return stop(
      `The tests need ${reasons}. Install them as root, then run npm test again:\n  sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  console.error(`npm test: installing ${packages.join(' ')} (${reasons}) with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const result = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0) {
      return stop(
        `apt-get ${args[0]} failed (exit ${result.status ?? result.signal}). Install by hand:\n  ${command}`,
      );
    }
  }
  const still = REQUIREMENTS.filter((requirement) => !requirement.present());
  if (still.length > 0) {
    return stop(
      `apt-get ran, yet ${still.map((requirement) => requirement.what).join(', ')} is still missing.`,
    );
  }
  return 0;
}

function stop(message) {
  console.error(
    `npm test cannot run on this machine yet.\n${message}\n(FUSION_SKIP_SYSTEM_PACKAGES=1 skips this check.)`,
  );
  return 1;
}

/** Whether the dynamic loader finds a shared library (its cache, as `dlopen` would). */
function hasLibrary(name) {
  try {
    return execFileSync('ldconfig', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).includes(`${name} `);
  } catch {
    // No ldconfig on PATH (non-root shells on some distributions): look where Debian puts libraries.
    return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/lib'].some((folder) =>
      existsSync(join(folder, name)),
    );
  }
}

function chromiumPath() {
  const candidates = [process.env.FUSION_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((candidate) => candidate && existsSync(candidate));
}

function onPath(command) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((folder) => folder && existsSync(join(folder, command)));
}

process.exitCode = main();
