/**
 * Messages between the provider (parent) and its MLX worker (child process), over Node's IPC
 * channel. Every request carries an `id`; the worker answers with events of that id and ends with
 * `result` or `error`.
 */
import type { OutputFormat } from '../grammar/output-constraints.js';
import type { PromptMessage } from '../tokenizer/chat-template.js';

/** Sampling and stopping settings of one generation. */
export interface GenerateParameters {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  logitBias?: Record<string, number>;
  seed?: number;
  maxTokens?: number;
  stop?: string[];
  /** Keep generating past end-of-sequence tokens (benchmarks; vLLM's `ignore_eos`). */
  ignoreEos?: boolean;
  /** Constrain the answer to JSON (of a schema): `response_format` json_object / json_schema. */
  format?: OutputFormat;
}

export type WorkerRequest =
  | {
      type: 'load';
      id: number;
      model: string;
      path: string;
      options: LoadOptions;
      /** Test hook: die natively while loading (honoured only with `FUSIONKIT_MLX_TEST_HOOKS=1`). */
      crash?: boolean;
    }
  | { type: 'unload'; id: number; model: string }
  | {
      type: 'generate';
      id: number;
      model: string;
      messages: PromptMessage[];
      tools?: unknown[];
      templateKwargs?: Record<string, unknown>;
      parameters: GenerateParameters;
    }
  | { type: 'embed'; id: number; model: string; input: string[] }
  | { type: 'memory'; id: number }
  | { type: 'cancel'; id: number }
  /** Test hooks, honoured only when the worker runs with `FUSIONKIT_MLX_TEST_HOOKS=1`. */
  | { type: 'debug'; id: number; action: 'abort' | 'native-abort' | 'exit' };

/** Load settings. */
export interface LoadOptions {
  /** Tokens per prefill chunk. */
  prefillChunkSize: number;
  /** KV cache growth step, in tokens. */
  kvCacheStep: number;
}

/** What the worker reports about a loaded model. */
export interface LoadedModelInfo {
  kind: 'chat' | 'embeddings';
  weightBytes: number;
  contextLength: number;
  /** How the model writes tool calls (from its chat template). */
  toolFormat?: ToolCallFormat;
  /** Whether its answers may start with a `<think>` block. */
  reasoning?: boolean;
  loadMs: number;
}

export type ToolCallFormat = 'hermes' | 'llama3-json' | 'mistral';

export interface GenerationUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export type WorkerEvent =
  | { type: 'ready'; pid: number }
  | { type: 'delta'; id: number; text: string }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; code: string; message: string; status?: number };

/** The result of a generation (sent as `result.value`). */
export interface GenerationResult {
  finishReason: 'stop' | 'length';
  usage: GenerationUsage;
  /** Bytes of the model's KV cache after the generation. */
  kvCacheBytes: number;
}

export interface EmbedResultValue {
  embeddings: number[][];
  promptTokens: number;
}

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  /** CPU time the worker has used, in microseconds (all its threads). */
  cpu: { user: number; system: number };
  models: Record<string, { weightBytes: number; kvCacheBytes: number }>;
}
