#!/usr/bin/env node
// Fails when the core's root entry, or anything it loads (its own chunks and its dependencies),
// imports a Node built-in: @fusionkit/core must run wherever `Request` and `Response` exist
// (edge runtimes, browsers, Deno, Bun).
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'core', 'dist');
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;
const seen = new Set();
const offenders = [];

function visit(file, via) {
  if (seen.has(file)) return;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  const require = createRequire(file);
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? match[4];
    if (builtins.has(specifier)) offenders.push(`${via.join(' > ')} > ${file}: imports '${specifier}'`);
    else if (specifier.startsWith('.')) visit(join(dirname(file), specifier), via);
    else visit(require.resolve(specifier), [...via, specifier]);
  }
}

for (const entry of ['index.js', 'internal.js']) visit(join(dist, entry), [`@fusionkit/core/${entry}`]);
if (offenders.length > 0) {
  console.error(`@fusionkit/core must not import Node built-ins:\n${offenders.join('\n')}`);
  process.exit(1);
}
console.log(`core entry check: ${seen.size} files (dependencies included), no Node built-ins`);
