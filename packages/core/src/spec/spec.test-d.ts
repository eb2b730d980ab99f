import { describe, expectTypeOf, it } from 'vitest';
import type {
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResult,
  FusionStrategyV1,
  PluginApi,
  PluginV1,
  ProviderV1,
  RetrieverV1,
  RouteContext,
  RouterV1,
  RouteTarget,
  StrategyContext,
  ToolV1,
} from './index.js';

const result: ChatResult = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
};

describe('ProviderV1', () => {
  it('a minimal provider type-checks', () => {
    const provider = {
      specificationVersion: 'v1',
      id: 'minimal',
      async models() {
        return [{ id: 'm' }];
      },
      async doChat(_request: ChatRequest, _options: CallOptions) {
        return result;
      },
      async *doStream(): AsyncGenerator<ChatChunk> {},
    } satisfies ProviderV1;
    expectTypeOf(provider).toExtend<ProviderV1>();
    expectTypeOf<ProviderV1['specificationVersion']>().toEqualTypeOf<'v1'>();
    expectTypeOf<ProviderV1['doChat']>().parameter(1).toEqualTypeOf<CallOptions>();
    expectTypeOf<CallOptions['signal']>().toEqualTypeOf<AbortSignal>();
    expectTypeOf<CallOptions['requestId']>().toEqualTypeOf<string>();
    expectTypeOf<ReturnType<ProviderV1['doStream']>>().toEqualTypeOf<AsyncIterable<ChatChunk>>();
    expectTypeOf<NonNullable<ProviderV1['memoryBytes']>>().returns.toEqualTypeOf<number | undefined>();
  });

  it('specificationVersion must be v1', () => {
    const base = {
      id: 'x',
      models: async () => [],
      doChat: async () => result,
      doStream: async function* (): AsyncGenerator<ChatChunk> {},
    };
    // @ts-expect-error: a v2 provider is not a ProviderV1.
    const v2: ProviderV1 = { ...base, specificationVersion: 'v2' };
    // @ts-expect-error: the version is required.
    const missing: ProviderV1 = { ...base };
    // A widened string is not enough either.
    const widened = { ...base, specificationVersion: 'v1' as string };
    expectTypeOf(widened).not.toExtend<ProviderV1>();
    void v2;
    void missing;
  });
});

describe('RouterV1', () => {
  it('a minimal router type-checks, sync or async', () => {
    const first = {
      specificationVersion: 'v1',
      name: 'first',
      doRoute: (context: RouteContext): RouteTarget[] =>
        context.candidates.slice(0, 1).map(({ model }) => ({ model })),
    } satisfies RouterV1;
    const remote = {
      specificationVersion: 'v1',
      name: 'remote',
      doRoute: async () => [{ model: 'lab/qwen', weight: 2, params: { temperature: 0 } }],
    } satisfies RouterV1;
    expectTypeOf(first).toExtend<RouterV1>();
    expectTypeOf(remote).toExtend<RouterV1>();
    expectTypeOf<RouterV1['specificationVersion']>().toEqualTypeOf<'v1'>();
    // @ts-expect-error: wrong version.
    const v0: RouterV1 = { specificationVersion: 'v0', name: 'x', doRoute: () => [] };
    void v0;
  });
});

describe('FusionStrategyV1', () => {
  it('a minimal strategy type-checks, with typed options', () => {
    const single = {
      specificationVersion: 'v1',
      name: 'single',
      doChat: (context: StrategyContext) => context.call(context.targets[0]!, context.request),
    } satisfies FusionStrategyV1;
    expectTypeOf(single).toExtend<FusionStrategyV1>();

    const vote: FusionStrategyV1<{ samples: number }> = {
      specificationVersion: 'v1',
      name: 'vote',
      async doChat(context) {
        expectTypeOf(context.options.samples).toEqualTypeOf<number>();
        expectTypeOf(context.callOptions.signal).toEqualTypeOf<AbortSignal>();
        const answers = await Promise.all(
          context.targets.map((target) => context.call(target, context.request, { role: 'sample' })),
        );
        return answers[0]!;
      },
      async *doStream(context) {
        yield* context.stream(context.targets[0]!, context.request);
      },
    };
    expectTypeOf(vote.doChat).returns.toEqualTypeOf<Promise<ChatResult>>();
    // @ts-expect-error: wrong version.
    const v2: FusionStrategyV1 = { specificationVersion: 'v2', name: 'x', doChat: async () => result };
    void v2;
  });
});

describe('PluginV1', () => {
  it('a minimal plugin type-checks and its api returns unsubscribes', () => {
    const plugin = {
      specificationVersion: 'v1',
      name: 'minimal',
      setup(api: PluginApi) {
        const off = api.hook('chat:request', (request) => ({ ...request, temperature: 0 }));
        expectTypeOf(off).toEqualTypeOf<() => void>();
        api.hook('chat:result', () => undefined, { enforce: 'post' });
        expectTypeOf(api.route('GET', '/x', () => new Response('x'))).toEqualTypeOf<() => void>();
        expectTypeOf(api.registerProvider).returns.toEqualTypeOf<Promise<() => void>>();
      },
    } satisfies PluginV1;
    expectTypeOf(plugin).toExtend<PluginV1>();
    expectTypeOf<PluginV1['specificationVersion']>().toEqualTypeOf<'v1'>();
    // @ts-expect-error: hooks return the same type or undefined.
    const wrongHook: Parameters<PluginApi['hook']> = ['chat:request', () => 42];
    // @ts-expect-error: wrong version.
    const v2: PluginV1 = { specificationVersion: 'v2', name: 'x', setup() {} };
    // @ts-expect-error: enforce is pre or post.
    const badOrder: Parameters<PluginApi['hook']>[2] = { enforce: 'middle' };
    void wrongHook;
    void v2;
    void badOrder;
  });
});

describe('RetrieverV1 and ToolV1', () => {
  it('minimal implementations type-check and need v1', () => {
    const retriever = {
      specificationVersion: 'v1',
      name: 'docs',
      doRetrieve: async (query: string) => [{ id: 'c1', documentId: 'd1', text: query, score: 1 }],
    } satisfies RetrieverV1;
    const tool = {
      specificationVersion: 'v1',
      name: 'echo',
      inputSchema: { type: 'object' },
      doExecute: async (input: Record<string, unknown>) => ({ content: JSON.stringify(input) }),
    } satisfies ToolV1;
    expectTypeOf(retriever).toExtend<RetrieverV1>();
    expectTypeOf(tool).toExtend<ToolV1>();
    // @ts-expect-error: wrong version.
    const old: RetrieverV1 = { specificationVersion: 'v0', name: 'x', doRetrieve: async () => [] };
    void old;
  });
});

describe('ChatRequest', () => {
  it('keeps OpenAI’s wire shape', () => {
    expectTypeOf<ChatRequest['stop']>().toEqualTypeOf<string[] | string | undefined>();
    expectTypeOf<ChatRequest['messages'][number]['role']>().toEqualTypeOf<
      'system' | 'developer' | 'user' | 'assistant' | 'tool'
    >();
    // @ts-expect-error: an unknown role is not a message.
    const message: ChatRequest['messages'][number] = { role: 'wizard', content: 'x' };
    void message;
  });
});
