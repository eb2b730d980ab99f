import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatChunk, type ChatRequest, FusionError } from '@fusionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedAnswer, writeScriptedModel } from '../testing/scripted-answer.js';
import { type TinyModel, writeTinyChatModel } from '../testing/tiny-model.js';
import { createMlxProvider } from './create-mlx-provider.js';
import type { MlxProvider } from './mlx-provider.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-chat-'));
let provider: MlxProvider;
let random: TinyModel;
/** Logit bias that keeps the random model from ending its answer. */
let noEnd: Record<string, number>;

/** Distinct bytes, so that the scripted chain has no repeated token; 你 é € split over byte tokens. */
const ANSWER = 'Hi 你é€';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

beforeAll(() => {
  writeScriptedModel(join(root, 'scripted-qwen'), 'qwen2', [ANSWER]);
  const call = '{"name": "get_weather", "arguments": ';
  const args = '{"city": "Paris"}';
  writeScriptedModel(
    join(root, 'tools-qwen'),
    'qwen2',
    ['Checking.', '<tool_call>', call, args, '}', '</tool_call>'],
    [
      { content: call, special: false },
      { content: args, special: false },
    ],
  );
  const llamaCall = '{"name": "get_weather", "parameters": ';
  writeScriptedModel(
    join(root, 'tools-llama'),
    'llama',
    [llamaCall, args, '}'],
    [
      { content: llamaCall, special: false },
      { content: args, special: false },
    ],
  );
  const mistralCall = '[{"name": "get_weather", "arguments": ';
  writeScriptedModel(
    join(root, 'tools-mistral'),
    'mistral',
    ['[TOOL_CALLS]', mistralCall, args, '}]'],
    [
      { content: mistralCall, special: false },
      { content: args, special: false },
    ],
  );
  random = writeTinyChatModel(join(root, 'random-qwen3'), {
    architecture: 'qwen3',
    contextLength: 8192,
    seed: 11,
  });
  noEnd = { [random.tokenizer.ids['<|im_end|>']!]: -100, [random.tokenizer.ids['<|endoftext|>']!]: -100 };
  provider = createMlxProvider({ modelsDir: root, huggingFaceCache: false, maxWaitingPerModel: 1 });
});

afterAll(async () => {
  await provider.close();
  rmSync(root, { recursive: true, force: true });
});

const options = (signal = new AbortController().signal) => ({ signal, requestId: 'test' });

function chat(model: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model, messages: [{ role: 'user', content: 'Hi' }], temperature: 0, ...extra };
}

async function collect(request: ChatRequest, signal?: AbortSignal): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of provider.doStream(request, options(signal))) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: ChatChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '');

describe('chat generation', () => {
  it('streams UTF-8-safe text and ends at the end-of-sequence token, with usage', async () => {
    const chunks = await collect(chat('scripted-qwen'));
    const pieces = contentOf(chunks);
    expect(pieces.join('')).toBe(ANSWER);
    for (const piece of pieces) expect(piece).not.toContain('\ufffd');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const last = chunks[chunks.length - 1]!;
    expect(last.choices[0]!.finish_reason).toBe('stop');
    // The end token is not counted.
    const generated = scriptedAnswer('qwen2', [ANSWER]).tokens.length;
    expect(last.usage).toMatchObject({ completion_tokens: generated });
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + generated);
  });

  it('max_tokens ends with finish_reason "length"; a stop string ends with "stop" before it', async () => {
    const short = await provider.doChat(chat('scripted-qwen', { max_tokens: 3 }), options());
    expect(short.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Hi ' } });
    expect(short.usage!.completion_tokens).toBe(3);
    const stopped = await provider.doChat(chat('scripted-qwen', { stop: ['é'] }), options());
    expect(stopped.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Hi 你' } });
  });

  it.each([
    ['tools-qwen', 'Checking.'],
    ['tools-llama', null],
    ['tools-mistral', null],
  ])('%s: parses the tool call into OpenAI tool_calls, streamed and whole', async (model, content) => {
    const request = chat(model, { tools: [weatherTool] });
    const chunks = await collect(request);
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(calls[0]!.function!.arguments!)).toEqual({ city: 'Paris' });
    expect(calls[0]!.id).toMatch(/^call_/);
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('tool_calls');
    const result = await provider.doChat(request, options());
    expect(result.choices[0]!.message.content).toBe(content);
    expect(result.choices[0]!.message.tool_calls![0]!.function.name).toBe('get_weather');
    expect(result.choices[0]!.finish_reason).toBe('tool_calls');
    // Without tools, the same text is plain content.
    const plain = await provider.doChat(chat(model), options());
    expect(plain.choices[0]!.message.tool_calls).toBeUndefined();
    expect(plain.choices[0]!.finish_reason).toBe('stop');
  });

  it('reuses the prompt cache across turns (longest common token prefix) without changing the answer', async () => {
    const first = await provider.doChat(chat('random-qwen3', { max_tokens: 8 }), options());
    expect(first.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    const again = await provider.doChat(chat('random-qwen3', { max_tokens: 8 }), options());
    expect(again.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    expect(again.usage!.prompt_tokens_details!.cached_tokens).toBe(first.usage!.prompt_tokens - 1);
    const next = await provider.doChat(
      {
        ...chat('random-qwen3', { max_tokens: 4 }),
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: first.choices[0]!.message.content },
          { role: 'user', content: 'And then?' },
        ],
      },
      options(),
    );
    expect(next.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThanOrEqual(
      first.usage!.prompt_tokens,
    );
  });

  it('cancels between tokens when the signal aborts, and frees the model', async () => {
    const controller = new AbortController();
    const chunks: ChatChunk[] = [];
    let failure: unknown;
    try {
      for await (const chunk of provider.doStream(
        chat('random-qwen3', { max_tokens: 5000, logit_bias: noEnd }),
        options(controller.signal),
      )) {
        chunks.push(chunk);
        if (chunks.length === 10) controller.abort();
      }
    } catch (error) {
      failure = error;
    }
    expect(FusionError.isInstance(failure) && failure.code).toBe('aborted');
    expect(chunks.length).toBeLessThan(20);
    const after = await provider.doChat(chat('random-qwen3', { max_tokens: 2 }), options());
    expect(after.usage!.completion_tokens).toBe(2);
  });

  it('runs one generation at a time per model and refuses beyond the waiting limit with 429', async () => {
    const running = collect(chat('random-qwen3', { max_tokens: 300, temperature: 0.8, seed: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waiting = collect(chat('random-qwen3', { max_tokens: 2 }));
    const refused = await collect(chat('random-qwen3', { max_tokens: 2 })).catch((error: unknown) => error);
    expect(FusionError.isInstance(refused) && refused.status).toBe(429);
    expect((await running).length).toBeGreaterThan(2);
    expect((await waiting).at(-1)!.usage!.completion_tokens).toBe(2);
  });

  it('keeps the worker memory flat over 2,000 generated tokens', async () => {
    const request = chat('random-qwen3', { max_tokens: 2000, temperature: 0.9, seed: 3, logit_bias: noEnd });
    const samples: number[] = [];
    let count = 0;
    for await (const chunk of provider.doStream(request, options())) {
      if (chunk.choices[0]?.delta.content) count++;
      // Sampled early in the generation (the worker answers between two tokens) and as it ends.
      if (
        (count >= 200 && samples.length === 0) ||
        (chunk.choices[0]?.finish_reason && samples.length === 1)
      ) {
        samples.push((await provider.memoryReport()).rss);
      }
      if (chunk.usage) expect(chunk.usage.completion_tokens).toBe(2000);
    }
    expect(samples).toHaveLength(2);
    // A decode loop that never yields grows by megabytes per token; this one stays within noise.
    expect(samples[1]! - samples[0]!).toBeLessThan(48 * 1024 * 1024);
  });
});
