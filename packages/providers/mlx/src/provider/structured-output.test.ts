import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatRequest } from '@fusionkit/core';
import Ajv from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SCHEMAS } from '../grammar/__fixtures__/test-schemas.js';
import { type TinyArchitecture, writeTinyChatModel } from '../testing/tiny-model.js';
import { createMlxProvider } from './create-mlx-provider.js';
import type { MlxProvider } from './mlx-provider.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-json-'));
let provider: MlxProvider;
const ajv = new Ajv({ strict: false });
/** Byte-level BPE (qwen3, llama) and SentencePiece with byte fallback (mistral). */
const architectures: TinyArchitecture[] = ['qwen3', 'llama', 'mistral'];

beforeAll(() => {
  for (const architecture of architectures) {
    writeTinyChatModel(join(root, `random-${architecture}`), { architecture, contextLength: 4096, seed: 7 });
  }
  provider = createMlxProvider({ modelsDir: root, huggingFaceCache: false });
});

afterAll(async () => {
  await provider.close();
  rmSync(root, { recursive: true, force: true });
});

const options = () => ({ signal: new AbortController().signal, requestId: 'test' });

function request(model: string, schema: Record<string, unknown>, seed: number): ChatRequest {
  return {
    model,
    messages: [{ role: 'user', content: 'Answer in JSON.' }],
    // Seed 0: greedy decoding (the masked logits' argmax inside MLX); otherwise sampled in JavaScript.
    temperature: seed === 0 ? 0 : 1,
    seed,
    max_tokens: 600,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
  };
}

async function streamed(chat: ChatRequest): Promise<{ text: string; finish: string | null | undefined }> {
  let text = '';
  let finish: string | null | undefined;
  for await (const chunk of provider.doStream(chat, options())) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish };
}

describe('structured output (response_format json_schema / json_object)', () => {
  it('advertises json_schema, so that capability routing can pick these models', async () => {
    const info = (await provider.models()).find((model) => model.id === 'random-qwen3')!;
    expect(info.capabilities).toMatchObject({ chat: true, json_schema: true });
  });

  for (const architecture of architectures) {
    it(`${architecture}: every answer, over seeds and schemas, parses and validates; streamed, the same text`, async () => {
      const model = `random-${architecture}`;
      for (const [name, schema] of Object.entries(TEST_SCHEMAS)) {
        const validate = ajv.compile(schema);
        for (let seed = 0; seed <= 4; seed++) {
          const chat = request(model, schema, seed);
          const result = await provider.doChat(chat, options());
          const text = result.choices[0]!.message.content ?? '';
          const label = `${name} seed ${seed}: ${text}`;
          expect(result.choices[0]!.finish_reason, label).toBe('stop');
          expect(validate(JSON.parse(text)), `${label} ${ajv.errorsText(validate.errors)}`).toBe(true);
          // The same seed, streamed: the same text, piece by piece.
          expect(await streamed(chat), label).toEqual({ text, finish: 'stop' });
        }
      }
    }, 300_000);
  }

  it('json_object: the answer is a JSON object', async () => {
    let parsed = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const chat: ChatRequest = {
        model: 'random-qwen3',
        messages: [{ role: 'user', content: 'JSON please.' }],
        temperature: 1,
        seed,
        max_tokens: 600,
        response_format: { type: 'json_object' },
      };
      const result = await provider.doChat(chat, options());
      const text = result.choices[0]!.message.content ?? '';
      if (result.choices[0]!.finish_reason === 'length') continue;
      const value = JSON.parse(text);
      expect(typeof value === 'object' && value !== null && !Array.isArray(value), text).toBe(true);
      parsed++;
    }
    expect(parsed).toBeGreaterThan(0);
  }, 120_000);

  it('ends at the end of the JSON even with ignore_eos; a too small max_tokens ends with "length"', async () => {
    const schema = TEST_SCHEMAS.person!;
    const whole = await provider.doChat(
      { ...request('random-qwen3', schema, 3), ignore_eos: true },
      options(),
    );
    expect(whole.choices[0]!.finish_reason).toBe('stop');
    expect(ajv.compile(schema)(JSON.parse(whole.choices[0]!.message.content ?? ''))).toBe(true);
    const cut = await provider.doChat({ ...request('random-qwen3', schema, 3), max_tokens: 2 }, options());
    expect(cut.choices[0]!.finish_reason).toBe('length');
    expect(cut.usage!.completion_tokens).toBe(2);
  }, 120_000);

  it.each([
    [{ oneOf: [{ type: 'integer' }, { type: 'string' }] }, "'oneOf'"],
    [{ type: 'object', properties: { tags: { type: 'array', uniqueItems: true } } }, "'uniqueItems'"],
    [{ type: 'string', pattern: '^(a)\\1$' }, 'back-reference'],
    [{ type: 'string', pattern: '[' }, 'not a valid regular expression'],
    [{ type: 'object', additionalProperties: 3 }, 'must be an object or a boolean'],
  ])('refuses %j with 400 unsupported_schema naming %s', async (schema, named) => {
    const chat = request('random-qwen3', schema as Record<string, unknown>, 1);
    const failure = await provider.doChat(chat, options()).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      status: 400,
      code: 'unsupported_schema',
      param: 'response_format.json_schema.schema',
      message: expect.stringContaining(named),
    });
  });

  it('a schema only the grammar engine refuses (nothing can match it) is a 400 too, and the model keeps working', async () => {
    const failure = await provider
      .doChat(request('random-qwen3', { enum: [] } as unknown as Record<string, unknown>, 1), options())
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_schema' });
    const impossible = await provider
      .doChat(request('random-qwen3', { type: 'integer', minimum: 5, maximum: 1 }, 1), options())
      .catch((error: unknown) => error);
    expect(impossible).toMatchObject({ status: 400, code: 'unsupported_schema' });
    const schema = TEST_SCHEMAS.flags!;
    const result = await provider.doChat(request('random-qwen3', schema, 2), options());
    expect(ajv.compile(schema)(JSON.parse(result.choices[0]!.message.content ?? ''))).toBe(true);
  }, 120_000);
});
