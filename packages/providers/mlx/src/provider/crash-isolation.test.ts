import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatChunk, FusionError } from '@fusionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyChatModel } from '../testing/tiny-model.js';
import { crashWorker } from '../testing/worker-test-hooks.js';
import { createMlxProvider } from './create-mlx-provider.js';
import type { MlxProvider } from './mlx-provider.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-crash-'));
let provider: MlxProvider;

beforeAll(() => {
  writeTinyChatModel(join(root, 'tiny-qwen'), { architecture: 'qwen2', contextLength: 100_000 });
  provider = createMlxProvider({
    modelsDir: root,
    huggingFaceCache: false,
    restartDelayMs: 50,
    workerEnv: { FUSIONKIT_MLX_TEST_HOOKS: '1' },
  });
});

afterAll(async () => {
  await provider.close();
  rmSync(root, { recursive: true, force: true });
});

const call = () => ({ signal: new AbortController().signal, requestId: 'test' });
const request = (max_tokens: number) => ({
  model: 'tiny-qwen',
  messages: [{ role: 'user' as const, content: 'Hello there' }],
  max_tokens,
  temperature: 0,
});

describe('crash isolation', () => {
  it('fails the in-flight stream with 503 model_crashed when MLX aborts natively, restarts and reloads', async () => {
    await provider.load('tiny-qwen');
    const firstPid = provider.workerStatus().pid;
    const chunks: ChatChunk[] = [];
    const stream = provider.doStream(request(50_000), call());
    let failure: unknown;
    try {
      for await (const chunk of stream) {
        chunks.push(chunk);
        if (chunks.length === 5) void crashWorker(provider, 'native-abort');
      }
    } catch (error) {
      failure = error;
    }
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(FusionError.isInstance(failure)).toBe(true);
    const error = failure as FusionError;
    expect(error.code).toBe('model_crashed');
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/SIGABRT/);
    expect(error.message).toMatch(/tiny-qwen/);

    // The next request waits for the restarted worker, which loaded the model again.
    const answer = await provider.doChat(request(4), call());
    expect(answer.choices[0]!.finish_reason).toBe('length');
    expect(answer.usage!.completion_tokens).toBe(4);
    const status = provider.workerStatus();
    expect(status.restarts).toBe(1);
    expect(status.pid).not.toBe(firstPid);
    expect(status.lastCrash).toMatch(/SIGABRT/);
    expect((await provider.models()).find((model) => model.id === 'tiny-qwen')?.loaded).toBe(true);
    expect((await provider.health!()).status).toBe('ready');
  });

  it('survives process.abort() and a kill while idle', async () => {
    await crashWorker(provider, 'abort');
    const pid = provider.workerStatus().pid;
    expect((await provider.doChat(request(2), call())).usage!.completion_tokens).toBe(2);
    process.kill(provider.workerStatus().pid!, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await provider.doChat(request(2), call())).usage!.completion_tokens).toBe(2);
    expect(provider.workerStatus().pid).not.toBe(pid);
    expect(provider.workerStatus().restarts).toBe(3);
  });
});
