/**
 * `@fusionkit/openai`: a provider for any OpenAI-compatible server, mlx-openai-server first
 * (upstream and the lab fork), also vLLM, llama.cpp, Ollama and OpenAI. Requests go over
 * `node:http(s)` with pooled keep-alive connections; streams are parsed from SSE without
 * re-buffering; upstream errors become the orchestrator's error classes.
 *
 * @example
 * import { createFusion } from '@fusionkit/core';
 * import { createOpenAICompatible } from '@fusionkit/openai';
 *
 * const lab = createOpenAICompatible({ id: 'lab', baseURL: 'http://127.0.0.1:8000/v1' });
 * const fusion = createFusion({ providers: [lab] });
 * @module
 */
export { createOpenAICompatible, type OpenAICompatibleProvider } from './create-openai-compatible.js';
export {
  createOpenAICompatibleFleet,
  type OpenAICompatibleFleet,
  type OpenAICompatibleFleetOptions,
} from './create-openai-compatible-fleet.js';
export type { OpenAICompatibleFlavor, OpenAICompatibleOptions } from './openai-compatible-options.js';
export { type SseEvent, SseParser, type SseParserOptions } from './sse-parser.js';
