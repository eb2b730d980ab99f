/**
 * `fusion serve` (the built CLI) with the MLX provider: a model directory dropped into the
 * configured folder while the server runs is served, and answers the official `openai` client,
 * streaming. The MLX plugin is configured in code, in a `fusion.config.mjs`; it re-reads the folder
 * and updates the served models while the server runs.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeScriptedModel } from '@fusionkit/mlx/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

const MLX_DIST = fileURLToPath(new URL('../../packages/providers/mlx/dist/index.js', import.meta.url));

describe('fusion serve with MLX models', () => {
  const root = mkdtempSync(join(tmpdir(), 'fusion-serve-mlx-'));
  const modelsDir = join(root, 'models');
  let cli: RunningCli;
  let client: OpenAI;

  beforeAll(async () => {
    mkdirSync(modelsDir);
    writeScriptedModel(join(modelsDir, 'first'), 'qwen2', ['Hi']);
    const config = join(root, 'fusion.config.mjs');
    writeFileSync(
      config,
      [
        `import { createMlxPlugin } from ${JSON.stringify(pathToFileURL(MLX_DIST).href)};`,
        'export default {',
        `  plugins: [createMlxPlugin({ modelsDir: ${JSON.stringify(modelsDir)}, huggingFaceCache: false, watchIntervalMs: 200 })],`,
        '};',
      ].join('\n'),
    );
    cli = await spawnCli(['serve', '--config', config], {});
    client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    await cli?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves a model directory dropped into the folder, answering the openai client while streaming', async () => {
    await vi.waitFor(() => expect(cli.output()).toContain('mlx/first'));
    // Written next to the folder, then moved in at once, as a finished download would be.
    const words = ['Dropped', ' in', ' and', ' served.'];
    writeScriptedModel(
      join(root, 'staging'),
      'qwen3',
      words,
      words.map((content) => ({ content, special: false })),
    );
    renameSync(join(root, 'staging'), join(modelsDir, 'dropped-qwen3'));

    await vi.waitFor(
      async () => {
        const models = await client.models.list();
        expect(models.data.map((model) => model.id)).toContain('mlx/dropped-qwen3');
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(cli.output()).toContain('+ model mlx/dropped-qwen3');

    const stream = await client.chat.completions.create({
      model: 'mlx/dropped-qwen3',
      messages: [{ role: 'user', content: 'Hello?' }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces).toEqual(words);
    expect(usage?.completion_tokens).toBe(4);
  });
});

describe('fusion serve with FUSION_MLX_MODELS', () => {
  it('serves the MLX models of the folder the environment names, with no config file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fusion-serve-mlx-env-'));
    const modelsDir = join(root, 'models');
    mkdirSync(modelsDir);
    const words = ['From', ' the', ' environment.'];
    writeScriptedModel(
      join(modelsDir, 'env-model'),
      'llama',
      words,
      words.map((content) => ({ content, special: false })),
    );
    const cli = await spawnCli(['serve'], { FUSION_MLX_MODELS: modelsDir, FUSION_UPSTREAMS: '' }, root);
    try {
      await vi.waitFor(() => expect(cli.output()).toContain('mlx/env-model'), { timeout: 15_000 });
      const client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const answer = await client.chat.completions.create({
        model: 'mlx/env-model',
        messages: [{ role: 'user', content: 'Hello?' }],
        temperature: 0,
      });
      expect(answer.choices[0]?.message.content).toBe(words.join(''));
    } finally {
      await cli.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
