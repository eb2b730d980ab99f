/**
 * A new user's config mistakes, as the built `fusion serve` reports them: every mistake on its own
 * line naming its key, exit code 2, no stack trace, and no server started.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliToEnd } from '../support/spawn-cli.js';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-mistakes-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

async function serveWith(config: unknown, env: Record<string, string> = {}) {
  await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify(config));
  return runCliToEnd(['serve'], { FUSION_PORT: '0', ...env }, cwd);
}

describe('fusion serve with a mistaken config', () => {
  it.each([
    [
      '"upstream" for "upstreams"',
      { upstream: { lab: 'http://127.0.0.1:8000/v1' } },
      {},
      "upstream: unknown key; did you mean 'upstreams'?",
    ],
    ['"port": "abc"', { port: 'abc' }, {}, 'port: got "abc", expected an integer from 0 to 65535'],
    [
      '"perModelConcurrency": "four"',
      { queue: { perModelConcurrency: 'four' } },
      {},
      'queue.perModelConcurrency: got "four", expected a positive integer',
    ],
    [
      'an alias to a missing model',
      { aliases: { default: 'lab/qwen3-4b' } },
      { FUSION_UPSTREAMS: 'gpu=http://127.0.0.1:9/v1' },
      'aliases.default: got "lab/qwen3-4b", expected a model of a configured upstream (gpu), pipeline or alias; there is no upstream \'lab\'',
    ],
    [
      'FUSION_PORT=eighty',
      {},
      { FUSION_PORT: 'eighty' },
      'FUSION_PORT: got "eighty", expected a port number',
    ],
    [
      'FUSION_UPSTREAMS=lab',
      {},
      { FUSION_UPSTREAMS: 'lab' },
      'FUSION_UPSTREAMS: got "lab", expected name=baseURL',
    ],
    [
      'FUSION_MLX_MODELS=./nope',
      {},
      { FUSION_MLX_MODELS: './nope' },
      'FUSION_MLX_MODELS: got "./nope", expected a folder',
    ],
  ])('%s: names the key, exits 2, prints no stack', async (_what, config, env, line) => {
    const result = await serveWith(config, env);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(line);
    expect(result.stderr).toMatch(/^fusion: (fusion\.config\.json|the environment) has 1 mistake:\n/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr + result.stdout).not.toContain('listening');
  });
});
