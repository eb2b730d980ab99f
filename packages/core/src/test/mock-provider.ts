import { sleep } from '../resilience/sleep.js';
import type { CallOptions } from '../spec/call-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import type { HealthStatus } from '../spec/health.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';

/** How a mock model answers. */
export interface MockModel extends ModelInfo {
  /** The answer text, or a function of the request. @default 'Hello from <id>.' */
  reply?: string | ((request: ChatRequest) => string);
  /** Delay before answering (non-stream) or before each chunk (stream), ms. @default 0 */
  delayMs?: number;
  /** Throw this instead of answering. */
  error?: Error;
  /** Embedding dimension. @default 8 */
  dimensions?: number;
}

export interface MockProviderOptions {
  id?: string;
  models?: MockModel[];
  health?: HealthStatus;
}

/** A provider whose calls are recorded, for assertions. */
export interface MockProvider extends ProviderV1 {
  /** Every request received, in order, with its options. */
  readonly calls: {
    kind: 'chat' | 'stream' | 'embed';
    request: ChatRequest | EmbedRequest;
    options: CallOptions;
  }[];
  /** Requests whose signal aborted. */
  readonly aborted: string[];
  health(): Promise<HealthStatus>;
  setHealth(health: HealthStatus): void;
}

/** Words of a reply, each with its leading space, as a model would stream them. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [text];
}

function countTokens(request: ChatRequest): number {
  return request.messages.reduce(
    (sum, message) => sum + JSON.stringify(message.content ?? '').split(/\s+/).length,
    0,
  );
}

/**
 * A deterministic in-memory provider for tests and examples: answers, streams word by word,
 * embeds with a hash, and records every call and abort.
 */
export function createMockProvider(options: MockProviderOptions = {}): MockProvider {
  const id = options.id ?? 'mock';
  const models = options.models ?? [{ id: 'echo' }];
  let health: HealthStatus = options.health ?? { status: 'ready' };
  const calls: MockProvider['calls'] = [];
  const aborted: string[] = [];

  const find = (name: string): MockModel => {
    const model = models.find((candidate) => candidate.id === name);
    if (!model) throw new Error(`mock provider has no model '${name}'`);
    return model;
  };
  const replyOf = (model: MockModel, request: ChatRequest) => {
    if (typeof model.reply === 'function') return model.reply(request);
    return model.reply ?? `Hello from ${model.id}.`;
  };
  const usageOf = (request: ChatRequest, text: string): Usage => {
    const prompt = countTokens(request);
    const completion = pieces(text).length;
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };
  const watchAbort = (options: CallOptions) =>
    options.signal.addEventListener('abort', () => aborted.push(options.requestId), { once: true });

  return {
    specificationVersion: 'v1',
    id,
    calls,
    aborted,
    async models() {
      return models.map(
        ({ reply: _reply, delayMs: _delay, error: _error, dimensions: _dimensions, ...info }) => info,
      );
    },
    async doChat(request, callOptions): Promise<ChatResult> {
      calls.push({ kind: 'chat', request, options: callOptions });
      watchAbort(callOptions);
      const model = find(request.model);
      await sleep(model.delayMs ?? 0, callOptions.signal);
      if (model.error) throw model.error;
      const text = replyOf(model, request);
      return {
        id: `chatcmpl-mock-${calls.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: usageOf(request, text),
      };
    },
    async *doStream(request, callOptions): AsyncGenerator<ChatChunk> {
      calls.push({ kind: 'stream', request, options: callOptions });
      watchAbort(callOptions);
      const model = find(request.model);
      const base = {
        id: `chatcmpl-mock-${calls.length}`,
        object: 'chat.completion.chunk' as const,
        created: 0,
        model: request.model,
      };
      yield { ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] };
      await sleep(model.delayMs ?? 0, callOptions.signal);
      if (model.error) throw model.error;
      const text = replyOf(model, request);
      for (const piece of pieces(text)) {
        yield { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
        await sleep(model.delayMs ?? 0, callOptions.signal);
      }
      yield {
        ...base,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: usageOf(request, text),
      };
    },
    async doEmbed(request, callOptions): Promise<EmbedResult> {
      calls.push({ kind: 'embed', request, options: callOptions });
      const model = find(request.model);
      if (model.error) throw model.error;
      const inputs = typeof request.input === 'string' ? [request.input] : request.input;
      const dimensions = model.dimensions ?? 8;
      return {
        object: 'list',
        model: request.model,
        data: inputs.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: hashVector(text, dimensions),
        })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      };
    },
    async health() {
      return health;
    },
    setHealth(next) {
      health = next;
    },
  };
}

/** A unit vector from a string's characters: equal texts, equal vectors. */
function hashVector(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (let index = 0; index < text.length; index++) {
    vector[index % dimensions]! += ((text.charCodeAt(index) * 2654435761) % 1000) / 1000;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
