import type { ModelInfo } from '@fusionkit/core';

/**
 * Which server quirks the provider applies to requests.
 *
 * - `'mlx-openai-server'`: upstream v1.8.1 and the lab fork. `developer` → `system`, `stop` as an
 *   array, only `max_tokens`, no `stream_options`, no `n: 1`, `tool_choice: "auto"` when tools are
 *   given without one (the server's default is `"none"`).
 * - `'openai'`: OpenAI itself and servers that accept all it does (vLLM). Keeps `developer`, sends
 *   only `max_completion_tokens` (reasoning models refuse `max_tokens`), asks for usage in streams with
 *   `stream_options: {include_usage: true}`, skips the mlx-only `/v1/queue/stats` probe.
 * - `'auto'`: the mlx-openai-server mappings, which are harmless elsewhere (llama.cpp, Ollama...), and
 *   `stream_options: {include_usage: true}` on streams (mlx-openai-server ignores it; the others need
 *   it to report a stream's usage).
 */
export type OpenAICompatibleFlavor = 'auto' | 'mlx-openai-server' | 'openai';

/** Options of {@link createOpenAICompatible}. */
export interface OpenAICompatibleOptions {
  /** Provider id; prefixes the ids of its models in the registry. No `/`. @example 'lab' */
  id: string;
  /** Base URL of the API, with its version path. @example 'http://127.0.0.1:8000/v1' */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * The models the server serves. Ids only (`['qwen3-4b']`) or full descriptions.
   * @default discovered from `GET {baseURL}/models`
   */
  models?: ModelInfo[] | string[];
  /** Server quirks to apply. @default 'auto' */
  flavor?: OpenAICompatibleFlavor;
  /**
   * The server serves OpenAI's Responses API (`POST {baseURL}/responses`) itself, as OpenAI and
   * some gateways do: `/v1/responses` requests to its models are passed through to it (built-in tools
   * included, stored by the upstream) instead of translated to chat completions. mlx-openai-server
   * does not serve it. @default false
   */
  responses?: boolean;
  /**
   * Connections open at once to the upstream. Unlimited by default, so that the orchestrator's queue
   * is the only place a call waits. A finite value also caps each model's `concurrency`, so that
   * the queue never admits a call that would then wait here for a connection (exact for servers of
   * one model, like mlx-openai-server; give `concurrency` per model when one upstream serves several).
   * @default Infinity
   */
  maxSockets?: number;
  /**
   * Calls each model of the upstream may run at once; the orchestrator's queue holds the rest
   * (counted in `/v1/queue/stats`, bounded by `maxWaiting`, answered 429 past it).
   * @default discovered from mlx-openai-server's `GET /v1/queue/stats` (`max_concurrency`, else
   * `max_queue_size`) unless `flavor` is `'openai'`; unlimited when the server does not say
   */
  concurrency?: number;
  /**
   * Time allowed for one upstream call, in ms: the whole answer of `doChat`, `doEmbed` and
   * `models`, and the response headers of `doStream` (a started stream is timed by the
   * orchestrator's first-token and idle deadlines through `options.signal`). The call's
   * `deadline` shortens it. @default 600000
   */
  timeoutMs?: number;
  /** Time allowed to each health probe (`/health`, `/v1/queue/stats`), in ms. @default 5000 */
  healthTimeoutMs?: number;
  /**
   * Largest SSE event of a stream; a larger one fails the stream. Counted in UTF-16 code units of
   * the event's decoded lines: bytes for ASCII text, and never more than the bytes, so an event of
   * non-ASCII text may take up to 3× this many bytes. @default 8388608 (8 Mi)
   */
  maxEventBytes?: number;
  /** Largest non-streamed response body, in bytes. @default 67108864 (64 MiB) */
  maxResponseBytes?: number;
  /**
   * Idle pooled connections are closed before they have idled this long, in ms (once they have
   * idled three quarters of it), or before the shorter keep-alive a server announces with
   * `Keep-Alive: timeout=N`. Keep it under the server's keep-alive timeout (uvicorn, behind
   * mlx-openai-server: 5 s) so a request never lands on a connection the server is closing.
   * @default 4000
   */
  freeSocketTimeoutMs?: number;
}
