import { UpstreamError } from '../../errors/upstream-error.js';
import type { ChatChunk } from '../../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../../spec/chat/chat-result.js';
import type { RouteTarget } from '../../spec/router/v1/router-v1.js';
import type { StrategyContext, TargetCallOptions } from '../../spec/strategy/v1/fusion-strategy-v1.js';
import type { FusionTrace, TraceCall } from '../../spec/strategy/v1/fusion-trace.js';
import { abortReason } from '../../util/abort.js';

/** How a fake target answers one call. */
export interface FakeScript {
  /** Answer text (streamed word by word), or a function of the request. @default 'answer from <model>' */
  reply?: string | ((request: ChatRequest) => string);
  /** Pause before answering (chat) or before the first chunk (stream), ms. @default 0 */
  delayMs?: number;
  /** Pause between stream chunks, ms. @default 0 */
  chunkDelayMs?: number;
  /** Fail with this error (chat), or after `failAfterChunks` content chunks (stream). */
  error?: Error;
  /** @default 0: before the first content */
  failAfterChunks?: number;
  /** Never answer; only an abort ends the call. */
  hang?: boolean;
  /** @default { prompt_tokens: 10, completion_tokens: <words>, total_tokens: ... } */
  usage?: Usage;
}

/** One call the fake call path received. */
export interface FakeCall {
  target: string;
  role: string | undefined;
  request: ChatRequest;
  signal: AbortSignal;
  kind: 'chat' | 'stream';
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const timer = ms === Number.POSITIVE_INFINITY ? undefined : setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      if (timer) clearTimeout(timer);
      reject(abortReason(signal));
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function chunk(delta: ChatChunk['choices'][number]['delta'], finish: 'stop' | null = null): ChatChunk {
  return {
    id: 'chunk-id',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'x',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/**
 * A strategy context whose `call`/`stream` follow per-target scripts (an array: one script per call,
 * the last one repeating) and record each call in the trace the way the real call path does.
 */
export function fakeContext<TOptions = Record<string, unknown>>(setup: {
  targets: Record<string, FakeScript | FakeScript[]>;
  order?: string[];
  options?: TOptions;
  request?: ChatRequest;
  deadline?: number;
  signal?: AbortSignal;
}) {
  const calls: FakeCall[] = [];
  const aborted: string[] = [];
  const counts = new Map<string, number>();
  const request = setup.request ?? {
    model: 'fusion/test',
    messages: [{ role: 'user', content: 'Question?' }],
  };
  const signal = setup.signal ?? new AbortController().signal;
  const trace: FusionTrace = {
    id: 't',
    requestId: 'r',
    model: 'fusion/test',
    strategy: 's',
    startedAt: 0,
    calls: [],
  };

  const begin = (
    target: RouteTarget,
    callRequest: ChatRequest,
    options: TargetCallOptions | undefined,
    kind: FakeCall['kind'],
  ) => {
    const scripts = setup.targets[target.model];
    if (!scripts) throw new Error(`no script for ${target.model}`);
    const count = counts.get(target.model) ?? 0;
    counts.set(target.model, count + 1);
    const list = Array.isArray(scripts) ? scripts : [scripts];
    const script = list[Math.min(count, list.length - 1)]!;
    // The real call path combines the call's signal with the request's.
    const callSignal = options?.signal ? AbortSignal.any([options.signal, signal]) : signal;
    callSignal.addEventListener('abort', () => aborted.push(target.model), { once: true });
    calls.push({ target: target.model, role: options?.role, request: callRequest, signal: callSignal, kind });
    const text =
      typeof script.reply === 'function'
        ? script.reply(callRequest)
        : (script.reply ?? `answer from ${target.model}`);
    const words = text.match(/\s*\S+/g) ?? [];
    const usage = script.usage ?? {
      prompt_tokens: 10,
      completion_tokens: words.length,
      total_tokens: 10 + words.length,
    };
    const entry: TraceCall = {
      target: target.model,
      role: options?.role,
      startedAt: Date.now(),
      retries: 0,
      outcome: 'ok',
    };
    const record = (error?: unknown) => {
      if (error) {
        entry.outcome = callSignal.aborted ? 'aborted' : 'error';
        entry.error = (error as { code?: string }).code ?? 'error';
      } else {
        entry.usage = usage;
        if (options?.recordOutput) entry.output = text;
      }
      trace.calls.push(entry);
    };
    return { script, text, words, usage, callSignal, record };
  };

  const call = async (
    target: RouteTarget,
    callRequest: ChatRequest,
    options?: TargetCallOptions,
  ): Promise<ChatResult> => {
    const run = begin(target, callRequest, options, 'chat');
    try {
      await pause(run.script.hang ? Number.POSITIVE_INFINITY : (run.script.delayMs ?? 0), run.callSignal);
      if (run.script.error) throw run.script.error;
      run.record();
      return {
        id: `result-${target.model}`,
        object: 'chat.completion',
        created: 0,
        model: target.model,
        choices: [{ index: 0, message: { role: 'assistant', content: run.text }, finish_reason: 'stop' }],
        usage: run.usage,
      };
    } catch (error) {
      run.record(error);
      throw error;
    }
  };

  async function* stream(
    target: RouteTarget,
    callRequest: ChatRequest,
    options?: TargetCallOptions,
  ): AsyncGenerator<ChatChunk> {
    const run = begin(target, callRequest, options, 'stream');
    let failure: unknown;
    try {
      yield chunk({ role: 'assistant' });
      await pause(run.script.hang ? Number.POSITIVE_INFINITY : (run.script.delayMs ?? 0), run.callSignal);
      const failAt = run.script.error ? (run.script.failAfterChunks ?? 0) : Number.POSITIVE_INFINITY;
      for (const [index, word] of run.words.entries()) {
        if (index === failAt) throw run.script.error;
        if (index > 0) await pause(run.script.chunkDelayMs ?? 0, run.callSignal);
        yield { ...chunk({ content: word }), model: target.model };
      }
      if (failAt !== Number.POSITIVE_INFINITY) throw run.script.error;
      yield chunk({}, 'stop');
      yield { ...chunk({}), choices: [], usage: run.usage };
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // Recorded before the stream reports its end, like the real call path.
      run.record(failure ?? (run.callSignal.aborted ? abortReason(run.callSignal) : undefined));
    }
  }

  const context: StrategyContext<TOptions> = {
    request,
    targets: (setup.order ?? Object.keys(setup.targets)).map((model) => ({ model })),
    call,
    stream,
    options: setup.options ?? ({} as TOptions),
    callOptions: {
      signal,
      requestId: 'r',
      ...(setup.deadline === undefined ? {} : { deadline: setup.deadline }),
    },
    trace,
    record: (entry) => trace.calls.push(entry),
  };
  return { context, calls, aborted, trace };
}

/** An upstream failure, as the call path would throw it. */
export function upstreamFailure(message = 'upstream failed'): UpstreamError {
  return new UpstreamError(message);
}

/** Every chunk of a stream, and the text it carries. */
export async function collect(
  stream: AsyncIterable<ChatChunk>,
): Promise<{ chunks: ChatChunk[]; text: string }> {
  const chunks: ChatChunk[] = [];
  for await (const item of stream) chunks.push(item);
  return { chunks, text: chunks.map((item) => item.choices[0]?.delta.content ?? '').join('') };
}
