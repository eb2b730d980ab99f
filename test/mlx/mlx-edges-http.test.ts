/**
 * The MLX provider at the edges, through a real server on port 0 and the official `openai`
 * client: the model list and error messages keep the host's folders to themselves, requests the
 * models cannot honour are refused with 400 (not accepted and ignored), and after crashes while
 * the worker restarts the orchestrator's view of what is loaded agrees with the provider's and the
 * worker's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFusion, type Fusion } from '@fusionkit/core';
import { createMlxProvider, type MlxProvider } from '@fusionkit/mlx';
import { crashNextLoads, crashNextStarts, crashWorker, writeScriptedModel } from '@fusionkit/mlx/testing';
import { serve } from '@fusionkit/node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-edges-'));
const modelsDir = join(root, 'models');
let mlx: MlxProvider;
let fusion: Fusion;
let server: Awaited<ReturnType<typeof serve>>;
let client: OpenAI;
let stopWatching: () => void;

beforeAll(async () => {
  writeScriptedModel(join(modelsDir, 'hello-qwen'), 'qwen2', ['Hello', ' there']);
  writeScriptedModel(join(modelsDir, 'vanishing'), 'qwen2', ['Gone']);
  mlx = createMlxProvider({
    modelsDir,
    huggingFaceCache: false,
    restartDelayMs: 50,
    workerEnv: { FUSIONKIT_MLX_TEST_HOOKS: '1' },
  });
  fusion = createFusion({ providers: [mlx], healthIntervalMs: 50 });
  await fusion.ready;
  stopWatching = mlx.watchModels(() => void fusion.registry.refresh(mlx.id), { intervalMs: 60_000 });
  server = await serve(fusion, { port: 0, signals: false });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  stopWatching?.();
  await server?.close();
  await fusion?.close();
  await mlx?.close();
  rmSync(root, { recursive: true, force: true });
});

const ask = (model = 'mlx/hello-qwen') =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 });

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

async function loadedEverywhere(
  model: string,
): Promise<{ registry: boolean; provider: boolean; worker: boolean }> {
  const listed = (await client.models.list()).data.find(
    (entry) => entry.id === `mlx/${model}`,
  ) as unknown as {
    loaded?: boolean;
  };
  const provided = (await mlx.models()).find((entry) => entry.id === model);
  return {
    registry: listed.loaded === true,
    provider: provided?.loaded === true,
    worker: model in (await mlx.memoryReport()).models,
  };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 2000; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('Condition not reached.');
}

describe('MLX models at the edges, over HTTP', () => {
  it('lists models without any local path; the operator still finds the directories', async () => {
    const response = await fetch(`${server.url}/v1/models`);
    const body = (await response.json()) as { data: Record<string, unknown>[] };
    const mlxModels = body.data.filter((entry) => String(entry.id).startsWith('mlx/'));
    expect(mlxModels.length).toBe(2);
    for (const value of strings(body)) {
      expect(value).not.toContain(root);
      expect(value.startsWith('/')).toBe(false);
    }
    expect(mlxModels[0]).toMatchObject({ source: 'folder', owned_by: 'local-mlx' });
    expect(mlx.modelDirectories()).toEqual({
      'hello-qwen': join(modelsDir, 'hello-qwen'),
      vanishing: join(modelsDir, 'vanishing'),
    });
    const health = await (await fetch(`${server.url}/health`)).text();
    expect(health).not.toContain(root);
  });

  it('keeps the model directory out of error messages', async () => {
    rmSync(join(modelsDir, 'vanishing', 'model.safetensors'));
    const failure = await ask('mlx/vanishing').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const error = failure as InstanceType<typeof OpenAI.APIError>;
    expect(error.message).toContain('<model directory>');
    expect(JSON.stringify(error.error)).not.toContain(root);
  });

  it.each([
    ['tool_choice required', { tool_choice: 'required' as const }, 'tool_choice'],
    [
      'tool_choice naming a tool',
      { tool_choice: { type: 'function' as const, function: { name: 'get_weather' } } },
      'tool_choice',
    ],
  ])('refuses %s with 400 unsupported naming the field, streamed or not', async (_name, extra, param) => {
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } },
    ];
    for (const stream of [false, true]) {
      const failure = await client.chat.completions
        .create({
          model: 'mlx/hello-qwen',
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
          max_tokens: 2,
          tools,
          stream,
          ...extra,
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
      const error = failure as InstanceType<typeof OpenAI.BadRequestError>;
      expect(error.status).toBe(400);
      expect(error.code).toBe('unsupported');
      expect(error.param).toBe(param);
      expect((error.error as { type?: string }).type).toBe('invalid_request_error');
    }
    // What is supported still works: tool_choice auto and none, response_format text.
    const answer = await client.chat.completions.create({
      model: 'mlx/hello-qwen',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 8,
      tools,
      tool_choice: 'none',
      response_format: { type: 'text' },
    });
    expect(answer.choices[0]!.message.content).toBe('Hello there');
  });

  it.each([
    ['oneOf', { oneOf: [{ type: 'integer' }, { type: 'number' }] }, "'oneOf'"],
    [
      'a nested unknown keyword',
      { type: 'object', properties: { n: { type: 'integer', multipleOf: 5 } } },
      "'multipleOf'",
    ],
    ['a lookaround pattern', { type: 'string', pattern: '^(?=a)[a-z]+$' }, 'lookaround'],
    ['an unknown type', { type: 'text' }, 'unknown type'],
    ['a remote $ref', { $ref: 'https://example.com/schema.json' }, 'local references'],
  ])(
    'refuses a json_schema with %s: 400 unsupported_schema naming it, streamed or not',
    async (_name, schema, named) => {
      for (const stream of [false, true]) {
        const failure = await client.chat.completions
          .create({
            model: 'mlx/hello-qwen',
            messages: [{ role: 'user', content: 'Hi' }],
            max_tokens: 2,
            stream,
            response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
          })
          .catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
        const error = failure as InstanceType<typeof OpenAI.BadRequestError>;
        expect(error.code).toBe('unsupported_schema');
        expect(error.param).toBe('response_format.json_schema.schema');
        expect(error.message).toContain(named);
      }
    },
  );

  it('advertises only what the models honour', async () => {
    const entry = (await client.models.list()).data.find(
      (model) => model.id === 'mlx/hello-qwen',
    ) as unknown as {
      capabilities: Record<string, boolean>;
      response_formats: string[];
      tool_choices: string[];
    };
    expect(entry.capabilities).toMatchObject({ chat: true, tools: true, json_schema: true });
    expect(entry.response_formats).toEqual(['text', 'json_object', 'json_schema']);
    expect(entry.tool_choices).toEqual(['auto', 'none']);
  });

  it('recovers from a second crash while reloading: chats succeed by themselves and every view agrees', async () => {
    expect((await ask()).choices[0]!.message.content).toBe('Hello there');
    expect(await loadedEverywhere('hello-qwen')).toEqual({ registry: true, provider: true, worker: true });
    await crashNextLoads(mlx, 1);
    await crashWorker(mlx, 'abort');
    await until(() => mlx.workerStatus().restarts >= 2 && mlx.workerStatus().state === 'ready');
    // Restored by the supervisor, before any request asks for it.
    expect(await loadedEverywhere('hello-qwen')).toEqual({ registry: true, provider: true, worker: true });
    expect((await ask()).choices[0]!.message.content).toBe('Hello there');
    expect(await loadedEverywhere('hello-qwen')).toEqual({ registry: true, provider: true, worker: true });
    await until(async () => fusion.health().models['mlx/hello-qwen']?.status === 'ready');
  });

  it('recovers when the worker dies again while starting after a crash, instead of answering 503 forever', async () => {
    expect((await ask()).choices[0]!.message.content).toBe('Hello there');
    const restarts = mlx.workerStatus().restarts;
    await crashNextStarts(mlx, 1);
    await crashWorker(mlx, 'abort');
    // Until the supervisor has stopped trying (idle) or succeeded (ready).
    await until(() => {
      const status = mlx.workerStatus();
      return status.restarts > restarts && (status.state === 'ready' || status.state === 'idle');
    });
    for (let request = 0; request < 3; request++) {
      expect((await ask()).choices[0]!.message.content).toBe('Hello there');
    }
    expect(await loadedEverywhere('hello-qwen')).toEqual({ registry: true, provider: true, worker: true });
  });

  it('a model that keeps crashing the worker while reloading is unloaded in every view until loaded again', async () => {
    await crashNextLoads(mlx, 2);
    await crashWorker(mlx, 'abort');
    await until(async () => !(await loadedEverywhere('hello-qwen')).registry);
    expect(await loadedEverywhere('hello-qwen')).toEqual({ registry: false, provider: false, worker: false });
    await until(async () => fusion.health().models['mlx/hello-qwen']?.status === 'unhealthy');
    // The registry sees it unloaded, so the next request loads it afresh (the crashes are over).
    expect((await ask()).choices[0]!.message.content).toBe('Hello there');
    expect(await loadedEverywhere('hello-qwen')).toEqual({ registry: true, provider: true, worker: true });
  });
});
