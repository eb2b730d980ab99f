/**
 * The MLX provider inside the orchestrator: `/v1/models`, streamed chat and tool calls and
 * embeddings answered to the official `openai` client, the registry's memory budget loading and
 * evicting MLX models, and models found in the Hugging Face cache.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFusion, type Fusion } from '@fusionkit/core';
import { createMlxProvider, type MlxProvider } from '@fusionkit/mlx';
import { writeScriptedModel, writeTinyChatModel, writeTinyEmbeddingModel } from '@fusionkit/mlx/testing';
import Ajv from 'ajv/dist/2020.js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-orchestrator-'));
const modelsDir = join(root, 'models');
const hfHome = join(root, 'hf');
let mlx: MlxProvider;
let fusion: Fusion;
let client: OpenAI;

function clientOf(target: Fusion): OpenAI {
  return new OpenAI({
    baseURL: 'http://fusion.localhost/v1',
    apiKey: 'unused',
    maxRetries: 0,
    fetch: (url: string | URL | Request, init?: RequestInit) => target.handle(new Request(url, init)),
  });
}

beforeAll(async () => {
  const words = ['Hello', ' from', ' MLX!'];
  writeScriptedModel(
    join(modelsDir, 'hello-qwen'),
    'qwen2',
    words,
    words.map((content) => ({ content, special: false })),
  );
  const call = '{"name": "get_weather", "arguments": ';
  const args = '{"city": "Paris"}';
  writeScriptedModel(
    join(modelsDir, 'tool-qwen'),
    'qwen2',
    ['<tool_call>', call, args, '}', '</tool_call>'],
    [
      { content: call, special: false },
      { content: args, special: false },
    ],
  );
  writeTinyEmbeddingModel(join(modelsDir, 'tiny-bge'), { pooling: 'cls' });
  writeTinyChatModel(join(modelsDir, 'broken'), { architecture: 'qwen2' });
  writeFileSync(join(modelsDir, 'broken', 'config.json'), JSON.stringify({ model_type: 'gpt_neox' }));
  // A model mlx_lm downloaded: the Hugging Face cache layout.
  const repo = join(hfHome, 'hub', 'models--mlx-community--tiny-llama-4bit');
  writeTinyChatModel(join(repo, 'snapshots', '0123abcd'), {
    architecture: 'llama',
    hiddenSize: 256,
    quantization: { bits: 4 },
  });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), '0123abcd');

  mlx = createMlxProvider({ modelsDir, env: { HF_HOME: hfHome } });
  fusion = createFusion({ providers: [mlx], healthIntervalMs: 0 });
  await fusion.ready;
  client = clientOf(fusion);
});

afterAll(async () => {
  await fusion?.close();
  await mlx?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('MLX models in the orchestrator', () => {
  it('lists folder and Hugging Face cache models in /v1/models, and says why a directory was skipped', async () => {
    const models = (await client.models.list()).data as unknown as Record<string, unknown>[];
    const byId = Object.fromEntries(models.map((model) => [model.id, model]));
    expect(Object.keys(byId).sort()).toEqual([
      'mlx/hello-qwen',
      'mlx/tiny-bge',
      'mlx/tiny-llama-4bit',
      'mlx/tool-qwen',
    ]);
    expect(byId['mlx/hello-qwen']).toMatchObject({
      type: 'chat',
      family: 'qwen2',
      owned_by: 'local-mlx',
      loaded: false,
    });
    expect(byId['mlx/tiny-bge']).toMatchObject({ type: 'embeddings', family: 'bert' });
    expect(byId['mlx/tiny-llama-4bit']).toMatchObject({ family: 'llama', tags: ['mlx', 'local', '4bit'] });
    expect(mlx.skippedModels()).toEqual([
      {
        id: 'broken',
        path: join(modelsDir, 'broken'),
        reason: expect.stringMatching(/gpt_neox' is not supported/),
      },
    ]);
  });

  it('streams a chat answer to the openai client, loading the model on first use', async () => {
    const stream = await client.chat.completions.create({
      model: 'mlx/hello-qwen',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.join('')).toBe('Hello from MLX!');
    expect(pieces.length).toBeGreaterThan(1);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number) });
    expect(fusion.registry.find('mlx/hello-qwen')?.info.loaded).toBe(true);
  });

  it('streams tool calls the openai client assembles', async () => {
    const stream = await client.chat.completions.create({
      model: 'mlx/tool-qwen',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      stream: true,
      temperature: 0,
    });
    const calls: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]!.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(finish).toBe('tool_calls');
    const whole = await client.chat.completions.create({
      model: 'mlx/tool-qwen',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      temperature: 0,
    });
    expect(whole.choices[0]!.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather' },
    });
  });

  it('answers /v1/embeddings with normalised vectors, several inputs at once', async () => {
    const result = await client.embeddings.create({
      model: 'mlx/tiny-bge',
      input: ['hello world', 'the weather'],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]!.embedding).toHaveLength(64);
    expect(Math.hypot(...result.data[1]!.embedding)).toBeCloseTo(1, 4);
    expect(result.usage.prompt_tokens).toBeGreaterThan(4);
  });

  it('serves a 4-bit model from the Hugging Face cache', async () => {
    const answer = await client.chat.completions.create({
      model: 'mlx/tiny-llama-4bit',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 5,
      temperature: 0,
    });
    expect(answer.choices[0]!.finish_reason).toBe('length');
    expect(answer.usage!.completion_tokens).toBe(5);
  });

  it('answers response_format json_schema to the openai client with JSON the schema accepts, streamed or not', async () => {
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string', pattern: '^[A-Z][a-z]{1,9}$' },
        days: { type: 'array', items: { enum: ['mon', 'tue', 'wed'] }, maxItems: 3 },
        warm: { type: 'boolean' },
      },
      required: ['city', 'warm'],
    };
    const validate = new Ajv({ strict: false }).compile(schema);
    const request = {
      model: 'mlx/tiny-llama-4bit',
      messages: [{ role: 'user' as const, content: 'Weather plans?' }],
      max_tokens: 300,
      temperature: 1,
      seed: 4,
      response_format: { type: 'json_schema' as const, json_schema: { name: 'plan', schema, strict: true } },
    };
    const answer = await client.chat.completions.create(request);
    const text = answer.choices[0]!.message.content ?? '';
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(validate(JSON.parse(text)), text).toBe(true);
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe(text);
  });

  it('refuses chat on an embedding model and embeddings on a chat model with 400', async () => {
    await expect(
      client.chat.completions.create({ model: 'mlx/tiny-bge', messages: [{ role: 'user', content: 'Hi' }] }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(client.embeddings.create({ model: 'mlx/hello-qwen', input: 'x' })).rejects.toMatchObject({
      status: 400,
    });
  });
});

describe('memory budget', () => {
  it('loads models on use and evicts the least recently used one to stay under the budget', async () => {
    const provider = createMlxProvider({ id: 'budget', modelsDir, huggingFaceCache: false });
    const a = provider.memoryBytes('hello-qwen')!;
    const b = provider.memoryBytes('tool-qwen')!;
    expect(a).toBeGreaterThan(100_000);
    const budgeted = createFusion({
      providers: [provider],
      memoryBudgetBytes: Math.max(a, b) + Math.min(a, b) / 2,
      healthIntervalMs: 0,
    });
    const evicted: string[] = [];
    budgeted.events.on('model:unload', (event) => evicted.push(`${event.model}:${event.reason}`));
    try {
      await budgeted.ready;
      const budgetClient = clientOf(budgeted);
      const ask = (model: string) =>
        budgetClient.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Hi' }],
          max_tokens: 3,
        });
      await ask('budget/hello-qwen');
      // Weights plus the KV cache the answer left.
      expect(provider.memoryBytes('hello-qwen')).toBeGreaterThan(a);
      await ask('budget/tool-qwen');
      expect(evicted).toEqual(['budget/hello-qwen:evicted']);
      const report = await provider.memoryReport();
      expect(Object.keys(report.models)).toEqual(['tool-qwen']);
      expect(report.models['tool-qwen']!.weightBytes).toBe(b);
      expect(budgeted.registry.loadedBytes()).toBeLessThanOrEqual(Math.max(a, b) + Math.min(a, b) / 2);
    } finally {
      await budgeted.close();
      await provider.close();
    }
  });
});
