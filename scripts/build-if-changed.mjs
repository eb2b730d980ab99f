#!/usr/bin/env node
/**
 * Builds the workspace packages whose sources changed since their last build, quietly: nothing is
 * printed when nothing changed, one line when something did, the build's own output only when it
 * fails. A package's inputs (its src/ without tests, package.json, tsup and tsconfig files, and the
 * shared tsconfig.base.json) are hashed; the hash of the last good build is kept in
 * dist/.build-hash, which tsup's clean step removes, so a failed build is never taken for a good one.
 *
 * `npm start`, the `fusion` bin in a checkout, and the test and bench scripts run it. `--force`
 * builds everything, as `npm run build` does. Messages go to stderr: a command's stdout stays its own.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const force = process.argv.includes('--force');

/** Files that do not reach dist: tests, type tests and their fixtures. */
function isTestFile(path) {
  return /\.test(-d)?\.tsx?$/.test(path) || path.split('/').includes('__fixtures__');
}

function listFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

function inputsHash(dir) {
  const hash = createHash('sha256');
  const files = [
    ...listFiles(join(dir, 'src')),
    ...['package.json', 'tsup.config.ts', 'tsconfig.json'].map((name) => join(dir, name)),
    join(root, 'tsconfig.base.json'),
  ]
    .filter((path) => existsSync(path) && !isTestFile(relative(dir, path)))
    .sort();
  for (const file of files) {
    hash.update(relative(root, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// The workspaces are listed in dependency order (core first), as `npm run build` builds them.
const stale = [];
for (const workspace of workspaces) {
  const dir = join(root, workspace);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (!manifest.scripts?.build) continue;
  const hash = inputsHash(dir);
  const stamp = join(dir, 'dist', '.build-hash');
  if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) continue;
  stale.push({ dir, name: manifest.name, hash, stamp });
}
if (stale.length === 0) process.exit(0);

process.stderr.write(`building ${stale.map((entry) => entry.name).join(', ')} (sources changed)…\n`);
for (const { dir, name, hash, stamp } of stale) {
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}\nbuilding ${name} failed.\n`);
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, hash);
}
