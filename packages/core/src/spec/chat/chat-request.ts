import type { ChatMessage } from './chat-message.js';

/** A function the model may call. */
export interface ToolDefinition {
  type: 'function';
  function: {
    name: string;
    description?: string;
    /** JSON Schema of the arguments. */
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

/** Whether and which tool the model must call. */
export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

/** Structured output request. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };
    };

/**
 * A chat completion request, in the OpenAI wire shape.
 *
 * Validated at the HTTP boundary; providers receive it normalised: `stop` is always an array,
 * `max_tokens` holds the effective limit (from `max_completion_tokens` when that was given).
 */
export interface ChatRequest {
  /** Model id, alias or pipeline name. @example 'lab/qwen2.5-0.5b-instruct-4bit' */
  model: string;
  messages: ChatMessage[];
  /** Whether the HTTP API answers with SSE. Providers ignore it: `doStream` is the streaming call. */
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  /** Token limit of the completion. Normalised from `max_completion_tokens` when that was given. */
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  /** Not in OpenAI's API; honoured by MLX and most local servers. */
  top_k?: number;
  /** Not in OpenAI's API; honoured by MLX and most local servers. */
  min_p?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  /** Not in OpenAI's API; honoured by MLX and most local servers. */
  repetition_penalty?: number;
  seed?: number;
  /** Normalised to an array of strings. */
  stop?: string[] | string;
  /** Only 1 is supported; the HTTP API answers 400 otherwise. @default 1 */
  n?: number;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  user?: string;
  logit_bias?: Record<string, number>;
  /** Passed to the chat template, e.g. `{ enable_thinking: true }`. */
  chat_template_kwargs?: Record<string, unknown>;
  /** Any other field is kept and passed to providers that understand it. */
  [extra: string]: unknown;
}
