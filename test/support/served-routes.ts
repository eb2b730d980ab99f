/**
 * Every route `fusion serve` exposes (the core's route lists, the RAG plugin's, jobs, MCP and the
 * observability routes), grouped, each with a valid body to start the fuzzing from. The model ids are
 * those of the mock upstream served as `lab`.
 */
import type { RouteSpec } from './malformed-requests.js';

export const CHAT_MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';
export const EMBEDDING_MODEL = 'lab/bge-small-en';

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
];
const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  },
];

/** Ids of things that exist on the server, so that routes with parameters are reached too. */
export interface ServedIds {
  response?: string;
  trace?: string;
  /** A job of `/v1/jobs`. */
  job?: string;
  /** A job of `/api/jobs` (the RAG plugin's). */
  ragJob?: string;
}

const known = (value: string | undefined) => (value ? [value] : []);

/** The route groups of `fusion serve`, each fuzzed as one property. */
export function servedRoutes(ids: ServedIds = {}): Record<string, RouteSpec[]> {
  const models = { id: [CHAT_MODEL, EMBEDDING_MODEL] };
  return {
    openai: [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        body: {
          model: CHAT_MODEL,
          messages,
          max_tokens: 16,
          temperature: 0.5,
          top_p: 1,
          n: 1,
          stop: ['\n'],
          seed: 1,
          user: 'fuzz',
          response_format: { type: 'json_object' },
          metadata: { a: 'b' },
        },
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        body: {
          model: CHAT_MODEL,
          messages: [{ role: 'user', content: 'weather?' }],
          stream: true,
          stream_options: { include_usage: true },
          tools,
          tool_choice: 'auto',
        },
      },
      {
        method: 'POST',
        path: '/v1/embeddings',
        body: { model: EMBEDDING_MODEL, input: ['a', 'b'], encoding_format: 'float', dimensions: 4 },
      },
      {
        method: 'POST',
        path: '/v1/completions',
        body: {
          model: CHAT_MODEL,
          prompt: 'Say hi',
          max_tokens: 8,
          stream: false,
          echo: false,
          logprobs: null,
        },
      },
      {
        method: 'POST',
        path: '/v1/completions',
        body: { model: CHAT_MODEL, prompt: ['a', 'b'], stream: true },
      },
      { method: 'GET', path: '/v1/models' },
      { method: 'GET', path: '/v1/models/*id', params: models },
      { method: 'POST', path: '/v1/models/load', body: { model: CHAT_MODEL, warmup: false } },
      { method: 'DELETE', path: '/v1/models/*id', params: models },
      { method: 'GET', path: '/health' },
      { method: 'GET', path: '/health/ready' },
      { method: 'GET', path: '/v1/queue/stats' },
      {
        method: 'POST',
        path: '/v1/images/generations',
        body: { model: CHAT_MODEL, prompt: 'a cat', n: 1, size: '256x256', response_format: 'b64_json' },
      },
      { method: 'POST', path: '/v1/audio/transcriptions', form: { model: CHAT_MODEL, language: 'en' } },
      { method: 'POST', path: '/v1/images/edits', form: { model: CHAT_MODEL, prompt: 'a hat' } },
    ],
    anthropic: [
      {
        method: 'POST',
        path: '/v1/messages',
        shape: 'anthropic',
        body: {
          model: CHAT_MODEL,
          max_tokens: 32,
          system: [{ type: 'text', text: 'Be brief.' }],
          messages: [
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
            { role: 'user', content: [{ type: 'text', text: 'Again' }] },
          ],
          temperature: 0.2,
          stop_sequences: ['END'],
          metadata: { user_id: 'fuzz' },
        },
      },
      {
        method: 'POST',
        path: '/v1/messages',
        shape: 'anthropic',
        body: {
          model: CHAT_MODEL,
          max_tokens: 32,
          stream: true,
          messages: [{ role: 'user', content: 'weather?' }],
          tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } }],
          tool_choice: { type: 'auto' },
        },
      },
      {
        method: 'POST',
        path: '/v1/messages/count_tokens',
        shape: 'anthropic',
        body: { model: CHAT_MODEL, messages: [{ role: 'user', content: 'Hi' }], system: 'Be brief.' },
      },
    ],
    responses: [
      {
        method: 'POST',
        path: '/v1/responses',
        body: {
          model: CHAT_MODEL,
          input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hi' }] }],
          instructions: 'Be brief.',
          max_output_tokens: 16,
          store: true,
          metadata: { a: 'b' },
        },
      },
      {
        method: 'POST',
        path: '/v1/responses',
        body: {
          model: CHAT_MODEL,
          input: 'Hi',
          stream: true,
          previous_response_id: 'resp_0',
          background: false,
        },
      },
      {
        method: 'GET',
        path: '/v1/responses/:id',
        query: ['stream', 'starting_after', 'include'],
        params: { id: known(ids.response) },
      },
      { method: 'DELETE', path: '/v1/responses/:id', params: { id: known(ids.response) } },
      {
        method: 'GET',
        path: '/v1/responses/:id/input_items',
        query: ['limit', 'after', 'order'],
        params: { id: known(ids.response) },
      },
      { method: 'POST', path: '/v1/responses/:id/cancel', params: { id: known(ids.response) } },
    ],
    fusion: [
      {
        method: 'POST',
        path: '/api/fusion/chat',
        body: {
          strategy: { name: 'fallback', options: {} },
          targets: [CHAT_MODEL, { model: CHAT_MODEL, weight: 1, params: { temperature: 0 } }],
          router: 'ordered',
          limits: { maxTargets: 2 },
          messages: [{ role: 'user', content: 'Hi' }],
        },
      },
      {
        method: 'POST',
        path: '/api/fusion/chat',
        body: {
          model: CHAT_MODEL,
          strategy: 'best-of-n',
          targets: [CHAT_MODEL, CHAT_MODEL],
          messages,
          stream: true,
        },
      },
      { method: 'GET', path: '/api/fusion/strategies' },
      { method: 'GET', path: '/api/fusion/pipelines' },
      { method: 'GET', path: '/api/fusion/traces/:id', params: { id: known(ids.trace) } },
    ],
    rag: [
      { method: 'GET', path: '/api/rag/status' },
      { method: 'GET', path: '/api/rag/collections' },
      {
        method: 'POST',
        path: '/api/rag/collections',
        body: {
          name: 'fuzzed',
          description: 'made by the fuzzer',
          embedding_model: EMBEDDING_MODEL,
          splitter: { type: 'recursive', chunk_size: 200, chunk_overlap: 20 },
        },
      },
      { method: 'DELETE', path: '/api/rag/collections', query: ['name'] },
      { method: 'GET', path: '/api/rag/collections/:name', params: { name: ['notes', 'fuzzed'] } },
      { method: 'DELETE', path: '/api/rag/collections/:name', params: { name: ['fuzzed'] } },
      {
        method: 'POST',
        path: '/api/rag/search',
        body: {
          collection: 'notes',
          query: 'which ports need root?',
          k: 3,
          mode: 'hybrid',
          filter: { source: 'ports.md' },
          candidates: 10,
          weights: [0.5, 0.5],
          rerank: false,
          mmr: 0.5,
          min_score: 0,
        },
      },
      { method: 'GET', path: '/api/rag/documents', query: ['collection', 'limit', 'after', 'id'] },
      { method: 'DELETE', path: '/api/rag/documents', query: ['collection', 'id', 'ids'] },
      {
        method: 'POST',
        path: '/api/rag/answer',
        body: { collection: 'notes', query: 'which ports need root?', k: 2, mode: 'bm25', model: CHAT_MODEL },
      },
      {
        method: 'POST',
        path: '/api/rag/ingest',
        body: {
          collection: 'fuzzed',
          create: true,
          async: false,
          documents: [
            {
              text: 'Tea steeps for two minutes.',
              id: 'tea',
              title: 'Tea',
              format: 'text',
              metadata: { a: 1 },
            },
          ],
          metadata: { by: 'fuzz' },
          splitter: { type: 'recursive', chunk_size: 100 },
        },
      },
      {
        method: 'POST',
        path: '/api/rag/ingest',
        form: { collection: 'fuzzed', create: 'true', async: 'false' },
      },
    ],
    jobs: [
      {
        method: 'POST',
        path: '/v1/jobs',
        body: {
          kind: 'chat.batch',
          input: { requests: [{ model: CHAT_MODEL, messages: [{ role: 'user', content: 'Hi' }] }] },
          metadata: { a: 'b' },
          webhook: { url: 'https://example.com/hook', secret: 's', headers: { a: 'b' } },
        },
      },
      { method: 'GET', path: '/v1/jobs', query: ['limit', 'after'] },
      { method: 'GET', path: '/v1/jobs/:id', params: { id: known(ids.job) } },
      { method: 'POST', path: '/v1/jobs/:id/cancel', params: { id: known(ids.job) } },
      { method: 'DELETE', path: '/v1/jobs/:id', params: { id: known(ids.job) } },
      {
        method: 'POST',
        path: '/api/jobs',
        body: { kind: 'rag.ingest', input: { collection: 'fuzzed', documents: [{ text: 'x' }] } },
      },
      { method: 'GET', path: '/api/jobs', query: ['limit', 'after'] },
      { method: 'GET', path: '/api/jobs/:id', params: { id: known(ids.ragJob) } },
      { method: 'POST', path: '/api/jobs/:id/cancel', params: { id: known(ids.ragJob) } },
      { method: 'DELETE', path: '/api/jobs/:id', params: { id: known(ids.ragJob) } },
    ],
    mcp: [
      {
        method: 'POST',
        path: '/mcp',
        shape: 'mcp',
        body: {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'fuzz', version: '1.0.0' },
          },
        },
      },
      {
        method: 'POST',
        path: '/mcp',
        shape: 'mcp',
        body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_models', arguments: {} } },
      },
      { method: 'GET', path: '/mcp', shape: 'mcp' },
      { method: 'DELETE', path: '/mcp', shape: 'mcp' },
    ],
    observability: [
      { method: 'GET', path: '/metrics' },
      { method: 'GET', path: '/internal/diagnostics' },
      { method: 'GET', path: '/dashboard' },
      { method: 'GET', path: '/dashboard/app.js' },
      { method: 'GET', path: '/dashboard/app.css' },
      { method: 'GET', path: '/dashboard/data' },
      { method: 'GET', path: '/' },
      { method: 'POST', path: '/v1/nothing/:here', body: { a: 1 } },
      { method: 'GET', path: '/%2e%2e/%2e%2e/etc/passwd' },
    ],
  };
}
