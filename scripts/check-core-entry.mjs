#!/usr/bin/env node
// Fails when the core's root entry (or anything it bundles) imports a Node built-in: @fusionkit/core
// must run wherever `Request` and `Response` exist (edge runtimes, browsers, Deno, Bun).
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'core', 'dist');
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const seen = new Set();
const offenders = [];

function visit(file) {
  if (seen.has(file)) return;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(
    /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s*['"]([^'"]+)['"]/g,
  )) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (builtins.has(specifier)) offenders.push(`${file}: imports '${specifier}'`);
    else if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
  }
}

for (const entry of ['index.js', 'internal.js']) visit(join(dist, entry));
if (offenders.length > 0) {
  console.error(`@fusionkit/core must not import Node built-ins:\n${offenders.join('\n')}`);
  process.exit(1);
}
console.log(`core entry check: ${seen.size} files, no Node built-ins`);
