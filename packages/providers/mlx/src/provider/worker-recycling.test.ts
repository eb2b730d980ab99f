/**
 * Unloading gives memory back: a process keeps native memory it once used, so the provider stops
 * the worker when its last model is unloaded, and the next load starts a fresh one. Without that,
 * load/unload cycles leave the worker hundreds of megabytes larger with no model loaded, bytes the
 * registry's memory budget no longer counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyChatModel } from '../testing/tiny-model.js';
import { createMlxProvider } from './create-mlx-provider.js';
import type { MlxProvider } from './mlx-provider.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-recycle-'));
let provider: MlxProvider | undefined;

beforeAll(() => {
  // About 60 MB of float32 weights.
  writeTinyChatModel(join(root, 'sixty-mb'), {
    architecture: 'qwen2',
    hiddenSize: 512,
    layers: 4,
    vocabSize: 8000,
  });
  writeTinyChatModel(join(root, 'tiny'), { architecture: 'qwen2' });
  return () => rmSync(root, { recursive: true, force: true });
});

afterEach(async () => {
  await provider?.close();
  provider = undefined;
});

const call = () => ({ signal: new AbortController().signal, requestId: 'test' });
const chat = (mlx: MlxProvider, model: string) =>
  mlx.doChat(
    // Random weights: without `ignore_eos` the first token sampled may end the answer.
    { model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2, temperature: 0, ignore_eos: true },
    call(),
  );

describe('worker recycling', () => {
  it('after load/unload cycles with no model loaded, the worker is as small as a fresh one', async () => {
    const mlx = (provider = createMlxProvider({ modelsDir: root, huggingFaceCache: false }));
    const modelBytes = mlx.memoryBytes('sixty-mb')!;
    expect(modelBytes).toBeGreaterThan(40e6);
    const fresh = (await mlx.memoryReport()).rss;
    for (let cycle = 0; cycle < 6; cycle++) {
      await mlx.load('sixty-mb');
      expect((await chat(mlx, 'sixty-mb')).usage!.completion_tokens).toBe(2);
      await mlx.unload('sixty-mb');
    }
    const report = await mlx.memoryReport();
    expect(report.models).toEqual({});
    // Generous: a fresh worker's RSS varies by some megabytes, far less than half a model.
    expect(report.rss).toBeLessThan(fresh + modelBytes / 2);
    expect(mlx.workerStatus().recycles).toBe(6);
    expect(mlx.workerStatus().restarts).toBe(0);
  });

  it('keeps the worker, and its models, while a model is still loaded', async () => {
    const mlx = (provider = createMlxProvider({ modelsDir: root, huggingFaceCache: false }));
    await mlx.load('tiny');
    await mlx.load('sixty-mb');
    const pid = mlx.workerStatus().pid;
    await mlx.unload('sixty-mb');
    expect(mlx.workerStatus()).toMatchObject({ pid, recycles: 0 });
    expect(Object.keys((await mlx.memoryReport()).models)).toEqual(['tiny']);
    expect((await chat(mlx, 'tiny')).usage!.completion_tokens).toBe(2);
  });

  it('can be turned off', async () => {
    const mlx = (provider = createMlxProvider({
      modelsDir: root,
      huggingFaceCache: false,
      recycleIdleWorker: false,
    }));
    await mlx.load('tiny');
    const pid = mlx.workerStatus().pid;
    await mlx.unload('tiny');
    expect(mlx.workerStatus()).toMatchObject({ pid, recycles: 0 });
  });
});
