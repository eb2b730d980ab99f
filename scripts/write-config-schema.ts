/**
 * Writes packages/cli/fusion.config.schema.json, the JSON Schema of fusion.config.json, from the zod
 * schema `fusion serve` checks its config with. `npm run schema`; a test fails when it is stale.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../packages/cli/src/config/config-schema.js';

const file = new URL('../packages/cli/fusion.config.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
// In the repository's own format, so that `npm run lint` passes on what this wrote.
execFileSync(
  process.execPath,
  [fileURLToPath(import.meta.resolve('@biomejs/biome/bin/biome')), 'format', '--write', fileURLToPath(file)],
  {
    stdio: 'ignore',
  },
);
process.stdout.write(`wrote ${file.pathname}\n`);
