#!/usr/bin/env node
import { tuneV8 } from './v8-flags.js';

// V8 flags first, then the rest of the CLI (a static import would load it before this runs).
tuneV8();
const { runCli } = await import('./run-cli.js');

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  log: (line) => process.stderr.write(`${line}\n`),
  stderr: process.stderr,
}).catch((error: unknown) => {
  process.stderr.write(`fusion: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
});
// `serve` keeps the process alive through its server; other commands end here.
if (code !== 0) process.exit(code);
