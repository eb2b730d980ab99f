import { afterEach, describe, expect, it } from 'vitest';
import type { FusionError } from '../errors/fusion-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { createMockProvider } from '../test/mock-provider.js';
import { createFusion, type Fusion } from './fusion.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

/** A provider whose server is down: listing its models fails as `@fusionkit/openai`'s does. */
function downProvider(id: string): ProviderV1 {
  return {
    specificationVersion: 'v1',
    id,
    async models() {
      throw new UnavailableError(
        `The upstream of provider '${id}' is unreachable (connect ECONNREFUSED 127.0.0.1:9).`,
      );
    },
    async doChat() {
      throw new Error('not reached');
    },
    async *doStream() {},
  };
}

async function failure(promise: Promise<unknown>): Promise<FusionError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as FusionError,
  );
}

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hi' }] });

describe('what a model name that cannot be served says', () => {
  it('a model of a provider that is down: 503 naming the provider and why, not 404', async () => {
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [downProvider('lab')],
      aliases: { fast: 'lab/qwen' },
    });
    await fusion.ready;
    const error = await failure(fusion.chat(hello('lab/qwen')));
    expect(error.status).toBe(503);
    expect(error.message).toBe(
      "The model 'lab/qwen' cannot be served yet: provider 'lab' has listed no model (The upstream of provider 'lab' is unreachable (connect ECONNREFUSED 127.0.0.1:9)). Its models are served once it answers.",
    );
    const aliased = await failure(fusion.chat(hello('fast')));
    expect(aliased.status).toBe(503);
    expect(aliased.message).toMatch(
      /^The alias 'fast' names 'lab\/qwen', which cannot be served yet: provider 'lab' has listed no model/,
    );
    const response = await fusion.handle(
      new Request('http://127.0.0.1/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hello('lab/qwen')),
      }),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('/health names the provider that is down instead of saying no model is configured', async () => {
    fusion = createFusion({ healthIntervalMs: 0, providers: [downProvider('lab')] });
    await fusion.ready;
    const report = fusion.health();
    expect(report.status).toBe('unavailable');
    expect(report.message).toBe(
      "No model yet: provider 'lab' has listed no model (The upstream of provider 'lab' is unreachable (connect ECONNREFUSED 127.0.0.1:9)). Models are served once their provider answers.",
    );
    expect(report.message).not.toContain('configured');
  });

  it('an alias whose target is missing: 404 naming the target, and what the provider serves', async () => {
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [createMockProvider({ id: 'mock', models: [{ id: 'echo' }] })],
      aliases: { fast: 'mock/nope' },
    });
    await fusion.ready;
    const error = await failure(fusion.chat(hello('fast')));
    expect(error.status).toBe(404);
    expect(error.message).toBe(
      "The alias 'fast' names 'mock/nope', which does not exist. 'mock' serves mock/echo. GET /v1/models lists the available models.",
    );
  });

  it('lists aliases in /v1/models with the entry of their target, and serves an alias of a pipeline', async () => {
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [createMockProvider({ id: 'mock', models: [{ id: 'echo' }] })],
      pipelines: [{ name: 'fusion/one', targets: ['mock/echo'] }],
      aliases: { default: 'mock/echo', piped: 'fusion/one', broken: 'mock/nope' },
    });
    await fusion.ready;
    const models = await fusion.models();
    expect(models.map((model) => [model.id, model.alias_of])).toEqual([
      ['mock/echo', undefined],
      ['fusion/one', undefined],
      ['default', 'mock/echo'],
      ['piped', 'fusion/one'],
    ]);
    expect((await fusion.chat(hello('piped'))).choices[0]?.message.content).toBe('Hello from echo.');
  });
});
