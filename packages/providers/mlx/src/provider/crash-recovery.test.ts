/**
 * Crashes while the worker restarts: a worker that dies while starting or while the models are
 * being loaded again. The provider recovers by itself, answers `model_crashed` for a crash during a
 * load, and its health never says ready while its models are not in the worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusionError, type HealthStatus } from '@fusionkit/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyChatModel } from '../testing/tiny-model.js';
import { crashNextLoads, crashNextStarts, crashWorker } from '../testing/worker-test-hooks.js';
import { createMlxProvider } from './create-mlx-provider.js';
import type { MlxProvider } from './mlx-provider.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-recovery-'));
let provider: MlxProvider | undefined;

beforeAll(() => {
  writeTinyChatModel(join(root, 'tiny-qwen'), { architecture: 'qwen2' });
  writeTinyChatModel(join(root, 'second-qwen'), { architecture: 'qwen2', seed: 2 });
  return () => rmSync(root, { recursive: true, force: true });
});

afterEach(async () => {
  await provider?.close();
  provider = undefined;
});

function start(): MlxProvider {
  provider = createMlxProvider({
    modelsDir: root,
    huggingFaceCache: false,
    restartDelayMs: 50,
    workerEnv: { FUSIONKIT_MLX_TEST_HOOKS: '1' },
  });
  return provider;
}

const call = () => ({ signal: new AbortController().signal, requestId: 'test' });
// Random weights: without `ignore_eos` the first token sampled may end the answer.
const request = {
  model: 'tiny-qwen',
  messages: [{ role: 'user' as const, content: 'Hi' }],
  max_tokens: 2,
  temperature: 0,
  ignore_eos: true,
};

interface Sample {
  health: HealthStatus;
  restarts: number;
}

/** Samples health until the provider says it is ready again after `restarts` restarts. */
async function watchRecovery(mlx: MlxProvider, restarts: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let attempt = 0; attempt < 3000; attempt++) {
    const sample = { health: await mlx.health!(), restarts: mlx.workerStatus().restarts };
    samples.push(sample);
    if (sample.restarts >= restarts && sample.health.status === 'ready') return samples;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`No recovery: ${JSON.stringify(samples.at(-1))}`);
}

/** Whether the worker itself holds the model (not only the provider's bookkeeping). */
async function workerHolds(mlx: MlxProvider, model: string): Promise<boolean> {
  return model in (await mlx.memoryReport()).models;
}

describe('crashes while the worker restarts', () => {
  it('restores the models after a second crash while reloading them, and chats again by itself', async () => {
    const mlx = start();
    await mlx.load('tiny-qwen');
    await crashNextLoads(mlx, 1);
    await crashWorker(mlx, 'abort');
    const samples = await watchRecovery(mlx, 2);
    // Never ready before the second restart: the first restart's reload crashed it.
    for (const sample of samples.slice(0, -1)) {
      expect(sample.health.status === 'loading' || sample.health.models?.['tiny-qwen'] === 'loading').toBe(
        true,
      );
    }
    expect(samples.at(-1)!.health.models?.['tiny-qwen']).toBe('ready');
    expect(await workerHolds(mlx, 'tiny-qwen')).toBe(true);
    expect((await mlx.doChat(request, call())).usage!.completion_tokens).toBe(2);
    expect((await mlx.models()).find((model) => model.id === 'tiny-qwen')?.loaded).toBe(true);
    expect(mlx.workerStatus().restarts).toBe(2);
  });

  it('restores every model, those after the one whose reload crashed too', async () => {
    const mlx = start();
    await mlx.load('tiny-qwen');
    await mlx.load('second-qwen');
    await crashNextLoads(mlx, 1);
    await crashWorker(mlx, 'abort');
    await watchRecovery(mlx, 2);
    expect(Object.keys((await mlx.memoryReport()).models).sort()).toEqual(['second-qwen', 'tiny-qwen']);
    const health = await mlx.health!();
    expect(health.models).toEqual({ 'second-qwen': 'ready', 'tiny-qwen': 'ready' });
    expect((await mlx.doChat({ ...request, model: 'second-qwen' }, call())).usage!.completion_tokens).toBe(2);
  });

  it('restores the models after a worker that dies while starting again', async () => {
    const mlx = start();
    await mlx.load('tiny-qwen');
    await crashNextStarts(mlx, 1);
    await crashWorker(mlx, 'exit');
    const samples = await watchRecovery(mlx, 2);
    expect(samples.slice(0, -1).every((sample) => sample.health.status === 'loading')).toBe(true);
    expect(await workerHolds(mlx, 'tiny-qwen')).toBe(true);
    expect((await mlx.doChat(request, call())).usage!.completion_tokens).toBe(2);
  });

  it('answers model_crashed to a request whose model crashes the worker while reloading; the next one succeeds', async () => {
    const mlx = start();
    await mlx.load('tiny-qwen');
    await crashNextLoads(mlx, 1);
    await crashWorker(mlx, 'abort');
    const failure = await mlx.doChat(request, call()).catch((error: unknown) => error);
    expect(FusionError.isInstance(failure)).toBe(true);
    expect((failure as FusionError).code).toBe('model_crashed');
    expect((failure as FusionError).status).toBe(503);
    expect((await mlx.doChat(request, call())).usage!.completion_tokens).toBe(2);
    expect(await workerHolds(mlx, 'tiny-qwen')).toBe(true);
  });

  it('stops restoring a model that keeps crashing the worker, and says so everywhere', async () => {
    const mlx = start();
    await mlx.load('tiny-qwen');
    let changes = 0;
    const stop = mlx.watchModels(() => changes++, { intervalMs: 60_000 });
    await crashNextLoads(mlx, 2);
    await crashWorker(mlx, 'abort');
    await watchRecovery(mlx, 3);
    stop();
    expect(changes).toBe(1);
    expect((await mlx.health!()).models?.['tiny-qwen']).toBe('unhealthy');
    expect((await mlx.models()).find((model) => model.id === 'tiny-qwen')?.loaded).toBe(false);
    expect(await workerHolds(mlx, 'tiny-qwen')).toBe(false);
    // Loading it explicitly gives it another chance.
    await mlx.load('tiny-qwen');
    expect((await mlx.doChat(request, call())).usage!.completion_tokens).toBe(2);
  });
});
