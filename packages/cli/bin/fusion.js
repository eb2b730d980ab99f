#!/usr/bin/env node
// The `fusion` command. This file is committed, not built, so that `npm ci` links it even before
// the first build. In a checkout of the repository it first builds the packages whose sources
// changed (nothing when none did); a published package runs its dist directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
const builder = fileURLToPath(new URL('../../../scripts/build-if-changed.mjs', import.meta.url));
if (existsSync(builder)) {
  // Progress and errors of the build go to stderr: the command's stdout stays its own.
  const result = spawnSync(process.execPath, [builder], { stdio: ['ignore', 2, 2] });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write(`fusion: ${fileURLToPath(built)} is missing; run \`npm run build\` first.\n`);
  process.exit(1);
}
await import(built.href);
