/**
 * The one schema of `fusion serve`'s configuration: `fusion.config.{ts,js,json}` and the `FUSION_*`
 * environment. It checks the config at start (every mistake named with its key, its value and what
 * was expected) and is the source of the JSON Schema published for JSON configs
 * (`@fusionkit/cli/fusion.config.schema.json`).
 */
import { createHash } from 'node:crypto';
import type {
  FusionStrategyV1,
  FusionTrace,
  JobRunner,
  KeyvLike,
  PluginV1,
  ProviderV1,
  RouterV1,
} from '@fusionkit/core';
import type { McpHttpOptions, McpSessionOptions } from '@fusionkit/mcp';
import { z } from 'zod';

/** An upstream's name: the prefix of its model ids. */
export const UPSTREAM_NAME = /^[\w.-]+$/;

function integer(min: number, max?: number) {
  const expected =
    max !== undefined
      ? `expected an integer from ${min} to ${max}`
      : min === 1
        ? 'expected a positive integer'
        : `expected an integer ≥ ${min}`;
  const schema = z.int({ error: expected }).min(min, { error: expected });
  return max === undefined ? schema : schema.max(max, { error: expected });
}

/** Milliseconds, at least 1. */
const ms = (description: string) => integer(1).describe(`${description} (ms)`);
const positiveInteger = (description: string) => integer(1).describe(description);
const fraction = (description: string) =>
  z
    .number({ error: 'expected a number from 0 to 1' })
    .min(0, { error: 'expected a number from 0 to 1' })
    .max(1, { error: 'expected a number from 0 to 1' })
    .describe(description);
const strings = (description: string) => z.array(z.string()).describe(description);
const stringMap = z.record(z.string(), z.string());

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** An object built in code (a provider, a plugin): accepted as it is, never copied. */
function made<T>(what: string, test: (value: Record<string, unknown>) => boolean) {
  return z.custom<T>((value) => isObject(value) && test(value), { error: `expected ${what}` });
}

const upstreamName = z
  .string({ error: 'expected a name' })
  .regex(UPSTREAM_NAME, { error: "expected a name of letters, digits, '_', '.' and '-'" });

const baseURL = z
  .string({ error: 'expected a base URL' })
  .refine(isHttpUrl, { error: 'expected an http or https URL with its /v1, e.g. http://127.0.0.1:8000/v1' })
  .describe('Base URL with the /v1 part, e.g. http://127.0.0.1:8000/v1');

const upstreamShape = {
  baseURL,
  apiKey: z.string().describe('Sent as Authorization: Bearer <apiKey>').optional(),
  headers: stringMap.describe('Extra headers sent with every request').optional(),
  flavor: z
    .enum(['auto', 'openai', 'mlx-openai-server'])
    .describe("Server quirks to apply (default 'auto')")
    .optional(),
  responses: z
    .boolean()
    .describe('The upstream serves /v1/responses itself: pass Responses requests through (default false)')
    .optional(),
  models: z
    .array(z.string().min(1, { error: 'expected a model id' }))
    .describe('Serve only these model ids; discovered from GET /v1/models when omitted')
    .optional(),
  concurrency: positiveInteger(
    "Calls each model of this upstream may run at once (default: the upstream's own limit, else queue.perModelConcurrency)",
  ).optional(),
  maxSockets: positiveInteger('Connections open at once to this upstream; also caps concurrency').optional(),
  timeoutMs: ms('Time allowed for one upstream call (default 600000)').optional(),
  healthTimeoutMs: ms('Time allowed to each health probe (default 5000)').optional(),
  fleet: z
    .array(baseURL)
    .min(1, { error: 'expected at least one more base URL' })
    .describe('More hosts serving the same models: one fleet with baseURL, least busy ready host first')
    .optional(),
};

const upstreamOptions = z.strictObject(upstreamShape);

/** `upstreams`: `{ name: baseURL }`, `{ name: { baseURL, … } }` or a list of `{ name, baseURL, … }`. */
const upstreams = z
  .union(
    [
      z.record(
        upstreamName,
        z.union([baseURL, upstreamOptions], {
          error: 'expected a base URL or an object { baseURL, … }',
        }),
      ),
      z.array(z.strictObject({ name: upstreamName, ...upstreamShape })).superRefine((list, context) => {
        const seen = new Set<string>();
        list.forEach((upstream, index) => {
          if (seen.has(upstream.name))
            context.addIssue({
              code: 'custom',
              path: [index, 'name'],
              input: upstream.name,
              message: 'expected a name not used by another upstream',
            });
          seen.add(upstream.name);
        });
      }),
    ],
    { error: 'expected { name: baseURL } or a list of { name, baseURL }' },
  )
  .describe('OpenAI-compatible upstreams, served as name/model-id');

const queue = z
  .strictObject({
    concurrency: positiveInteger('Calls running at once across all models (default 10000)').optional(),
    perModelConcurrency: positiveInteger(
      'Calls running at once per model, unless the model reports its own limit (default: concurrency)',
    ).optional(),
    models: z
      .record(z.string(), integer(1))
      .describe('Per-model overrides of perModelConcurrency, e.g. { "lab/qwen3-0.6b": 1 }')
      .optional(),
    maxWaiting: integer(0)
      .describe('Calls that may wait for a slot, across all models; beyond it 429 (default 1024)')
      .optional(),
    perModelMaxWaiting: integer(0).describe('Calls that may wait per model (default 256)').optional(),
    waitTimeoutMs: ms('How long a call may wait before it gets 429 (default 30000)').optional(),
  })
  .describe('Concurrency and waiting limits of the request queue');

const security = z
  .strictObject({
    allowedHosts: strings(
      "Host names allowed besides localhost and IP addresses; '.example.com' allows subdomains, '*' any host",
    ).optional(),
    allowedOrigins: strings(
      "Browser origins allowed to call across origins (CORS); '*' allows every origin",
    ).optional(),
  })
  .describe('The cross-site guard: allowed Host names (DNS rebinding) and browser origins (CORS)');

const retry = z.strictObject({
  maxRetries: integer(0).describe('Retries after the first attempt (default 2)').optional(),
  baseDelayMs: integer(0).describe('First backoff, ms; doubles each retry (default 250)').optional(),
  maxDelayMs: integer(0).describe('Largest backoff, ms (default 8000)').optional(),
  jitter: fraction('Random share of each backoff (default 1)').optional(),
  maxRetryAfterMs: integer(0).describe('Longest Retry-After waited for, ms (default 10000)').optional(),
});

const breaker = z.strictObject({
  consecutiveFailures: positiveInteger('Consecutive failures that open the circuit (default 5)').optional(),
  failureRate: fraction('Failure share over the window that opens the circuit (default 0.5)').optional(),
  windowSize: positiveInteger('Calls the failure rate is computed over (default 20)').optional(),
  minimumCalls: positiveInteger(
    'Calls the window must hold before the failure rate counts (default 10)',
  ).optional(),
  cooldownMs: integer(0)
    .describe('How long an open circuit waits before a probe, ms (default 30000)')
    .optional(),
});

const resilience = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        retry: z
          .union([z.literal(false), retry], { error: 'expected false or { maxRetries, … }' })
          .optional(),
        breaker: z
          .union([z.literal(false), breaker], { error: 'expected false or { consecutiveFailures, … }' })
          .optional(),
        modelCalls: z
          .boolean()
          .describe('Whether models called by name get retries and a breaker')
          .optional(),
        latencyAlpha: fraction(
          'Weight of the newest sample in the latency averages (default 0.2)',
        ).optional(),
      }),
    ],
    { error: 'expected false or { retry, breaker, … }' },
  )
  .describe('Retries and circuit breakers of every call; false turns them off');

const traces = z
  .strictObject({
    ttlMs: ms('How long a trace stays (default 600000)').optional(),
    maxEntries: positiveInteger('Traces kept in memory at most (default 1000)').optional(),
    keyv: made<KeyvLike<FusionTrace>>(
      'a Keyv instance (code configs only)',
      (value) => typeof value.get === 'function' && typeof value.set === 'function',
    ).optional(),
  })
  .describe('Where traces of fused answers are kept');

const responses = z
  .strictObject({
    ttlMs: ms('How long a stored response stays (default 2592000000, 30 days)').optional(),
    maxEntries: positiveInteger('Responses kept in memory at most (default 1000)').optional(),
    keyv: made<KeyvLike<unknown>>(
      'a Keyv instance (code configs only)',
      (value) => typeof value.get === 'function' && typeof value.set === 'function',
    ).optional(),
    jobs: made<JobRunner>(
      'a job runner (code configs only)',
      (value) => typeof value.create === 'function',
    ).optional(),
  })
  .describe("Where the Responses API keeps stored responses (default: the server's state store)");

const routeTarget = z.strictObject({
  model: z.string().min(1, { error: 'expected a model id or alias' }),
  weight: z.number().positive({ error: 'expected a positive number' }).optional(),
  params: z
    .record(z.string(), z.unknown())
    .describe('Request fields that override the client’s for this target')
    .optional(),
});

const pipeline = z.strictObject({
  name: z
    .string()
    .min(1, { error: 'expected a model name' })
    .describe('The model id clients use, e.g. fusion/moa'),
  description: z.string().optional(),
  strategy: z
    .union(
      [
        z.string(),
        made<FusionStrategyV1>(
          'a strategy',
          (value) => value.specificationVersion === 'v1' && typeof value.doChat === 'function',
        ),
      ],
      { error: 'expected a strategy name (single, fallback, race, vote, best-of-n, mixture-of-agents)' },
    )
    .describe('single, fallback, race, vote, best-of-n, mixture-of-agents (default single)')
    .optional(),
  options: z
    .record(z.string(), z.unknown())
    .describe("The strategy's options, e.g. { samples: 5 }")
    .optional(),
  router: z
    .union(
      [
        z.string(),
        made<RouterV1>(
          'a router',
          (value) => value.specificationVersion === 'v1' && typeof value.doRoute === 'function',
        ),
      ],
      { error: 'expected a router name (explicit, capability, least-busy, latency, cost, weighted)' },
    )
    .describe('explicit, capability, least-busy, latency, cost, weighted (default explicit)')
    .optional(),
  targets: z
    .array(z.union([z.string().min(1), routeTarget], { error: 'expected a model id or { model, weight }' }))
    .min(1, { error: 'expected at least one target' })
    .describe('The models it may use: ids, aliases or { model, weight, params }'),
  limits: z
    .strictObject({
      maxCalls: positiveInteger('Target calls, retries included (default 16)').optional(),
      maxTokens: positiveInteger('Tokens over all calls').optional(),
      timeoutMs: ms('Wall time of the whole fused request').optional(),
      maxConcurrent: positiveInteger('Requests of this pipeline running at once; more get 429').optional(),
    })
    .optional(),
  capabilities: z
    .strictObject({
      chat: z.boolean().optional(),
      embeddings: z.boolean().optional(),
      tools: z.boolean().optional(),
      json_schema: z.boolean().optional(),
      vision: z.boolean().optional(),
    })
    .optional(),
});

const mlx = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        id: upstreamName.describe("Provider id; prefixes its model ids (default 'mlx')").optional(),
        modelsDir: z
          .union([z.string(), z.array(z.string())], { error: 'expected a folder or a list of folders' })
          .describe('Folder(s) of MLX model directories (FUSION_MLX_MODELS)')
          .optional(),
        huggingFaceCache: z
          .boolean()
          .describe('Also serve mlx-community models of the Hugging Face cache')
          .optional(),
        models: stringMap.describe('Models by explicit directory, id to path').optional(),
        maxWaitingPerModel: integer(0).optional(),
        prefillChunkSize: positiveInteger('Prompt tokens per prefill step (default 512)').optional(),
        kvCacheStep: positiveInteger('KV cache growth step, in tokens (default 256)').optional(),
        restartDelayMs: integer(0).optional(),
        maxRestartDelayMs: integer(0).optional(),
        recycleIdleWorker: z.boolean().optional(),
        workerEnv: stringMap.optional(),
        env: z.record(z.string(), z.string().optional()).optional(),
        watchIntervalMs: ms('How often the folders are checked for changes (default 2000)').optional(),
      }),
    ],
    { error: 'expected false or { modelsDir, … }' },
  )
  .describe('In-process MLX models, served as mlx/<name>');

const mcp = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        path: z.string().startsWith('/', { error: "expected a path starting with '/'" }).optional(),
        allowedHosts: strings('Narrows security.allowedHosts for /mcp').optional(),
        allowedOrigins: strings('Narrows security.allowedOrigins for /mcp').optional(),
        maxBodyBytes: positiveInteger('Largest request body, bytes').optional(),
        name: z.string().optional(),
        version: z.string().optional(),
        progressEveryChunks: positiveInteger(
          'chat sends a progress notification every this many chunks',
        ).optional(),
        servers: z
          .boolean()
          .describe(
            'Re-serve the mcpServers on /mcp as server__tool, with their resources and prompts (default true)',
          )
          .optional(),
        sessions: z
          .union([
            z.boolean(),
            z.strictObject({
              idleTimeoutMs: ms('Idle sessions end after this (default 30 min)').optional(),
              maxSessions: positiveInteger('Sessions open at once (default 1000)').optional(),
              retryIntervalMs: ms('The SSE retry hint (default 1000)').optional(),
              eventStore: made<NonNullable<McpSessionOptions['eventStore']>>(
                'an event store (code configs only)',
                () => true,
              ).optional(),
              store: made<NonNullable<McpSessionOptions['store']>>(
                'a Keyv for the sessions (code configs only; default the state store)',
                () => true,
              ).optional(),
            }),
          ])
          .describe('Stateful sessions (Mcp-Session-Id) for 2025-era clients; default stateless')
          .optional(),
        rag: z
          .custom<NonNullable<McpHttpOptions['rag']>>(
            (value) => isObject(value) || typeof value === 'function',
            { error: 'expected the RAG plugin (code configs only)' },
          )
          .optional(),
        jobs: made<NonNullable<McpHttpOptions['jobs']>>(
          'a job runner (code configs only)',
          () => true,
        ).optional(),
        onError: z
          .custom<(error: Error) => void>((value) => typeof value === 'function', {
            error: 'expected a function',
          })
          .optional(),
      }),
    ],
    { error: 'expected false or { path, … }' },
  )
  .describe('The orchestrator as an MCP server at /mcp; false turns it off');

/** The name that prefixes a bridged server's tools (`name__tool`), as `mcpToolsPlugin` checks it. */
const mcpServerName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, { error: 'expected 1-32 letters, digits or dashes' });

/** What every bridged server takes besides how to reach it (`McpServerConfig`). */
const mcpServerPolicy = {
  timeoutMs: ms('Time allowed to one tool call (default 30000)').optional(),
  toolTimeouts: z
    .record(z.string(), integer(1))
    .describe("Per-tool timeoutMs, by the server's tool name")
    .optional(),
  maxResultChars: positiveInteger('Characters of a tool result the model reads (default 16000)').optional(),
  allowDestructive: z
    .union([z.boolean(), z.array(z.string())], { error: 'expected true, false or a list of tool names' })
    .describe('Tools that may change or delete things which are still offered: names, or true for all')
    .optional(),
  include: strings("Bridge only these tools (the server's names)").optional(),
  exclude: strings('Never bridge these tools').optional(),
  connectTimeoutMs: ms('Time to start, connect and list tools (default 15000)').optional(),
  restartDelayMs: integer(0).describe('First wait before a restart, ms (default 500)').optional(),
  maxRestartDelayMs: integer(0).describe('Longest wait between restarts, ms (default 30000)').optional(),
  healthIntervalMs: integer(0)
    .describe('How often the server is pinged, ms; 0 turns it off (default 30000)')
    .optional(),
  disabled: z.boolean().describe('Leave this server out').optional(),
};

const mcpServer = z
  .strictObject({
    type: z
      .enum(['stdio', 'http', 'streamable-http', 'streamableHttp'], {
        error: "expected 'stdio', 'http' or 'streamable-http' (SSE-only servers are not supported)",
      })
      .describe('Written by some clients; the transport follows from command or url')
      .optional(),
    command: z
      .string()
      .min(1, { error: 'expected a program' })
      .describe('The program of a stdio server')
      .optional(),
    args: strings('Its arguments').optional(),
    env: stringMap.describe('Added to the few variables it inherits (PATH, HOME, …)').optional(),
    cwd: z.string().optional(),
    url: z
      .string()
      .refine(isHttpUrl, { error: 'expected an http or https URL' })
      .describe('The Streamable HTTP endpoint of a remote server')
      .optional(),
    headers: stringMap.describe('Sent with every request, e.g. Authorization').optional(),
    ...mcpServerPolicy,
  })
  .refine((server) => !server.command !== !server.url, {
    error: 'expected { command, args, env } (a stdio server) or { url, headers } (a Streamable HTTP server)',
  });

const mcpServers = z
  .record(mcpServerName, mcpServer)
  .describe(
    'External MCP servers, in the mcpServers shape of Claude Desktop and Cursor: their tools join the chat tool loop as server__tool (fusion_tools) and are re-served on /mcp',
  );

const rag = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        dir: z
          .string()
          .min(1, { error: 'expected a folder' })
          .describe(
            "State folder of the collections, kept in <dir>/rag/<name> (default '.fusion', FUSION_RAG_DIR)",
          )
          .optional(),
        roots: strings('Folders that /api/rag/ingest may read paths from').optional(),
        embeddingModel: z
          .string()
          .min(1, { error: 'expected a model id' })
          .describe('Embedding model of new collections (lexical only without one)')
          .optional(),
        generator: z
          .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
            error: 'expected a model id or a list of them',
          })
          .describe('Chat model(s) that answer as rag/<collection>; without one no rag/* model is served')
          .optional(),
        load: z
          .enum(['startup', 'lazy'], { error: "expected 'startup' or 'lazy'" })
          .describe("Load collections at start in the background, or on first use (default 'startup')")
          .optional(),
        rewrite: z
          .boolean({ error: 'expected true or false' })
          .describe(
            'Multi-turn chats with rag/<collection>: the generator first rewrites the last message as a standalone question, which is searched (default false)',
          )
          .optional(),
      }),
    ],
    { error: 'expected false or { dir, roots, embeddingModel, generator, load, rewrite }' },
  )
  .describe(
    'Collections made by `fusion ingest`, served at /api/rag and as rag/<collection>; false turns it off',
  );

/** Everything `fusion.config.{ts,mts,js,mjs,json}` may say; unknown keys are mistakes. */
export const fusionConfigSchema = z
  .strictObject({
    $schema: z.string().describe('The JSON Schema of this file').optional(),
    host: z
      .string()
      .min(1, { error: 'expected a host name or address' })
      .describe("Address to listen on (default '127.0.0.1', FUSION_HOST)")
      .optional(),
    port: integer(0, 65535)
      .describe('Port to listen on; 0 picks a free one (default 8080, FUSION_PORT)')
      .optional(),
    upstreams: upstreams.optional(),
    providers: z
      .array(
        made<ProviderV1>(
          'a provider made in code, e.g. createOpenAICompatible({ id, baseURL })',
          (value) => value.specificationVersion === 'v1' && typeof value.id === 'string',
        ),
      )
      .describe('Providers built in code (.ts/.js configs only)')
      .optional(),
    plugins: z
      .array(
        made<PluginV1>(
          'a plugin made in code, e.g. ragPlugin({ … })',
          (value) => value.specificationVersion === 'v1' && typeof value.setup === 'function',
        ),
      )
      .describe('Plugins built in code (.ts/.js configs only)')
      .optional(),
    aliases: z
      .record(
        z.string().min(1, { error: 'expected an alias name' }),
        z.string().min(1, { error: 'expected a model id' }),
      )
      .describe('Model aliases, e.g. { "default": "lab/qwen2.5-0.5b-instruct-4bit" }')
      .optional(),
    queue: queue.optional(),
    maxBodyBytes: positiveInteger(
      'Largest request body accepted, bytes; larger get 413 (default 4 MiB)',
    ).optional(),
    memoryBudgetBytes: positiveInteger('Bytes loaded in-process models may occupy together').optional(),
    apiKeys: z
      .array(
        z.union([
          z.string().min(1, { error: 'expected a non-empty key' }),
          z
            .strictObject({
              id: z.string().min(1).describe('Name of the key in logs, limits and job ownership'),
              key: z.string().min(1).describe('The key in clear (hashed at start); prefer sha256').optional(),
              sha256: z
                .string()
                .regex(/^[0-9a-fA-F]{64}$/, {
                  error: 'expected the 64 hex digits `fusion keys create` prints',
                })
                .describe('Hex SHA-256 of the key, as `fusion keys create` prints it')
                .optional(),
              requestsPerMinute: positiveInteger('Requests this key may make per minute').optional(),
              tokensPerMinute: positiveInteger('Tokens this key may spend per minute').optional(),
              admin: z
                .boolean()
                .describe(
                  "An operator key: it sees /internal/diagnostics and the dashboard (every key's requests and jobs)",
                )
                .optional(),
            })
            .refine((entry) => !entry.key !== !entry.sha256, { error: 'give key or sha256 (one of them)' }),
        ]),
      )
      .superRefine((keys, context) => {
        // Ids name jobs, limits and collections: two entries with one id are refused at start, a key
        // given in clear being known by `key-` and 12 hex digits of its SHA-256 (as ApiKeys names it).
        const seen = new Map<string, number>();
        keys.forEach((entry, index) => {
          const plain = typeof entry === 'string';
          const id = plain
            ? `key-${createHash('sha256').update(entry).digest('hex').slice(0, 12)}`
            : entry.id;
          const earlier = seen.get(id);
          if (earlier !== undefined) {
            context.addIssue({
              code: 'custom',
              path: plain ? [index] : [index, 'id'],
              input: id,
              message: `expected an id that apiKeys[${earlier}] does not have too${
                plain ? ' (a key given in clear is known by its derived id)' : ''
              }`,
            });
          }
          seen.set(id, index);
        });
      })
      .describe('When set, requests need Authorization: Bearer <one of these keys>')
      .optional(),
    security: security.optional(),
    timeoutMs: ms('Total time allowed for one chat call (default 600000)').optional(),
    firstTokenTimeoutMs: ms(
      'Time allowed to the first content token of a stream (default 120000)',
    ).optional(),
    idleTimeoutMs: ms('Time allowed between two chunks of a stream (default 60000)').optional(),
    responseTimeoutMs: ms('Time allowed for a non-streamed answer of one call (default 300000)').optional(),
    pipelines: z.array(pipeline).describe('Pipelines served as models (fusion/moa, fusion/fast)').optional(),
    resilience: resilience.optional(),
    traces: traces.optional(),
    responses: responses.optional(),
    basePath: z
      .string()
      .regex(/^(\/.*)?$/, { error: "expected '' or a path starting with '/'" })
      .describe("Prefix under which the routes are served, e.g. '/ai'")
      .optional(),
    healthIntervalMs: integer(0)
      .describe('How often provider health is refreshed, ms; 0 disables (default 5000)')
      .optional(),
    mlx: mlx.optional(),
    mcp: mcp.optional(),
    mcpServers: mcpServers.optional(),
    rag: rag.optional(),
    shutdownTimeoutMs: integer(0)
      .describe('How long shutdown waits for running requests, ms (default 10000)')
      .optional(),
    state: z
      .strictObject({
        store: z
          .enum(['sqlite', 'memory'], { error: "expected 'sqlite' or 'memory'" })
          .describe("Where jobs and traces are kept (default 'sqlite', FUSION_STATE)")
          .optional(),
        dir: z
          .string()
          .min(1, { error: 'expected a folder' })
          .describe("Folder of state.sqlite (default '.fusion', FUSION_STATE_DIR)")
          .optional(),
      })
      .describe('Durable state of jobs and traces')
      .optional(),
    redis: z
      .string()
      .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
      .describe('Keep jobs and traces in Redis (FUSION_REDIS_URL)')
      .optional(),
    jobs: z
      .strictObject({
        concurrency: positiveInteger(
          'Jobs this instance runs at once (default 1, FUSION_JOBS_CONCURRENCY)',
        ).optional(),
      })
      .describe('How this instance runs jobs (/v1/jobs, background responses)')
      .optional(),
  })
  .meta({
    title: 'fusion.config.json',
    description:
      'The configuration of `fusion serve` (@fusionkit/cli). Environment variables FUSION_* override it.',
  });

/** A list from the environment: comma-separated, spaces and empty entries dropped. */
const envList = z.string().transform((value) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean),
);

/** `FUSION_UPSTREAMS`: `name=baseURL[,name=baseURL…]`. */
export const upstreamListSchema = z.string().transform((value, context) => {
  const list: { name: string; baseURL: string }[] = [];
  for (const item of value.split(',')) {
    const entry = item.trim();
    if (!entry) continue;
    const equals = entry.indexOf('=');
    const name = entry.slice(0, equals).trim();
    const url = entry.slice(equals + 1).trim();
    if (equals <= 0) {
      context.addIssue({
        code: 'custom',
        input: entry,
        message: 'expected name=baseURL, e.g. lab=http://127.0.0.1:8000/v1',
      });
    } else if (!upstreamName.safeParse(name).success) {
      context.addIssue({
        code: 'custom',
        input: entry,
        message: "expected a name of letters, digits, '_', '.' and '-' before '='",
      });
    } else if (!isHttpUrl(url)) {
      context.addIssue({
        code: 'custom',
        input: entry,
        message: 'expected an http or https URL after the name, e.g. lab=http://127.0.0.1:8000/v1',
      });
    } else if (list.some((upstream) => upstream.name === name)) {
      context.addIssue({ code: 'custom', input: entry, message: `expected the name '${name}' only once` });
    } else {
      list.push({ name, baseURL: url.replace(/\/+$/, '') });
    }
  }
  return list;
});

/** The `FUSION_*` variables `fusion serve` reads. Empty ones count as unset. */
export const fusionEnvSchema = z.object({
  FUSION_HOST: z.string().optional(),
  FUSION_PORT: z
    .string()
    .refine((value) => /^\d+$/.test(value) && Number(value) <= 65535, {
      error: 'expected a port number from 0 to 65535 (0 picks a free one)',
    })
    .transform(Number)
    .optional(),
  FUSION_UPSTREAMS: upstreamListSchema.optional(),
  FUSION_LOG: z
    .enum(['requests', 'json'], {
      error: "expected 'requests' (one JSON line per request), 'json' (pino logs) or nothing",
    })
    .optional(),
  FUSION_LOG_LEVEL: z.enum(['info', 'debug'], { error: "expected 'info' or 'debug'" }).optional(),
  FUSION_LOG_PROMPTS: z.enum(['0', '1'], { error: "expected '1' (log prompts) or '0'" }).optional(),
  FUSION_METRICS: z.enum(['0', '1'], { error: "expected '0' (no /metrics) or '1'" }).optional(),
  FUSION_TRACING: z
    .enum(['0', '1'], { error: "expected '1' (OpenTelemetry spans over OTLP) or '0'" })
    .optional(),
  FUSION_DIAGNOSTICS: z
    .enum(['0', '1'], { error: "expected '1' (serve /internal/diagnostics) or '0'" })
    .optional(),
  FUSION_STATE: z.enum(['sqlite', 'memory'], { error: "expected 'sqlite' or 'memory'" }).optional(),
  FUSION_STATE_DIR: z.string().optional(),
  FUSION_RAG_DIR: z.string().optional(),
  FUSION_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
    .optional(),
  FUSION_REDIS_PREFIX: z.string().optional(),
  FUSION_JOBS_LEASE_MS: z
    .string()
    .regex(/^[1-9][0-9]*$/, { error: 'expected a positive whole number of milliseconds' })
    .optional(),
  FUSION_JOBS_CONCURRENCY: z
    .string()
    .regex(/^[1-9][0-9]*$/, { error: 'expected a positive whole number' })
    .optional(),
  FUSION_WEBHOOKS_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { error: "expected 'true' or 'false'" })
    .optional(),
  FUSION_MLX_MODELS: z.string().optional(),
  FUSION_ALLOWED_HOSTS: envList.optional(),
  FUSION_ALLOWED_ORIGINS: envList.optional(),
});

/** The names of the variables {@link fusionEnvSchema} reads. */
export const FUSION_ENV_NAMES = Object.keys(fusionEnvSchema.shape) as (keyof typeof fusionEnvSchema.shape)[];

/**
 * The JSON Schema of `fusion.config.json`, made from {@link fusionConfigSchema}. What only code can
 * give (providers, plugins, strategy objects) is left open.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(fusionConfigSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-07',
    override: ({ jsonSchema }) => {
      // Integers carry the largest safe integer as their maximum: true, and noise in an editor.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  }) as Record<string, unknown>;
}
