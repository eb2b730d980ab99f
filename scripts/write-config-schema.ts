/**
 * Writes packages/cli/fusion.config.schema.json, the JSON Schema of fusion.config.json, from the zod
 * schema `fusion serve` checks its config with. `npm run schema`; a test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../packages/cli/src/config/config-schema.js';

const file = new URL('../packages/cli/fusion.config.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${file.pathname}\n`);
