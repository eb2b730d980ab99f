import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFusion } from '@fusionkit/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeTinyChatModel } from '../testing/tiny-model.js';
import { createMlxPlugin } from './create-mlx-plugin.js';
import { createMlxProvider } from './create-mlx-provider.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-watch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('model folders that change while serving', () => {
  it('watchModels calls back when a directory appears or goes away', async () => {
    const dir = join(root, 'a');
    const provider = createMlxProvider({ modelsDir: dir, huggingFaceCache: false });
    const changes = vi.fn();
    const stop = provider.watchModels(changes, { intervalMs: 20 });
    try {
      writeTinyChatModel(join(dir, 'one'), { architecture: 'qwen2' });
      await vi.waitFor(() => expect(changes).toHaveBeenCalledTimes(1));
      expect((await provider.models()).map((model) => model.id)).toEqual(['one']);
      rmSync(join(dir, 'one'), { recursive: true });
      await vi.waitFor(() => expect(changes).toHaveBeenCalledTimes(2));
      expect(await provider.models()).toEqual([]);
    } finally {
      stop();
      await provider.close();
    }
  });

  it('the plugin keeps the orchestrator model list in step with the folder', async () => {
    const dir = join(root, 'b');
    writeTinyChatModel(join(dir, 'first'), { architecture: 'qwen2' });
    const fusion = createFusion({
      plugins: [createMlxPlugin({ modelsDir: dir, huggingFaceCache: false, watchIntervalMs: 20 })],
      healthIntervalMs: 0,
    });
    try {
      await fusion.ready;
      expect(fusion.registry.list().map((model) => model.id)).toEqual(['mlx/first']);
      writeTinyChatModel(join(dir, 'second'), { architecture: 'llama' });
      await vi.waitFor(() =>
        expect(
          fusion.registry
            .list()
            .map((model) => model.id)
            .sort(),
        ).toEqual(['mlx/first', 'mlx/second']),
      );
      const answer = await fusion.chat({
        model: 'mlx/second',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 2,
        // Random weights: without `ignore_eos` the first token sampled may end the answer.
        ignore_eos: true,
      });
      expect(answer.usage?.completion_tokens).toBe(2);
    } finally {
      await fusion.close();
    }
  });
});
