import type { FusionError } from '../../../errors/fusion-error.js';
import type { ChatRequest } from '../../chat/chat-request.js';
import type { ChatResult } from '../../chat/chat-result.js';
import type { EmbedRequest } from '../../embedding/embed-request.js';
import type { EmbedResult } from '../../embedding/embed-result.js';
import type { PipelineDefinition } from '../../pipeline/pipeline-definition.js';
import type { ProviderV1 } from '../../provider/v1/provider-v1.js';
import type { RetrieverV1 } from '../../retriever/v1/retriever-v1.js';
import type { RouterV1 } from '../../router/v1/router-v1.js';
import type { FusionStrategyV1 } from '../../strategy/v1/fusion-strategy-v1.js';
import type { ToolV1 } from '../../tool/v1/tool-v1.js';

/** Context of a request as hooks and routes see it. */
export interface HookContext {
  requestId: string;
  signal: AbortSignal;
}

/** Context of one call to a target, as the `call:headers` hook sees it. */
export interface CallHookContext extends HookContext {
  /** The target's full id (`lab/qwen`). */
  model: string;
  /** The id of the target's provider. */
  provider: string;
  /** 1 for the first try of this target in the request, 2 for its first retry, ... */
  attempt: number;
}

/**
 * Hooks that change data. They run in order: `enforce: 'pre'` first, then unordered, then `'post'`,
 * each in registration order within its group. A hook returns the new value or `undefined` to keep it.
 */
export interface PluginHooks {
  /** Before routing: rewrite the request (add a system prompt, clamp `max_tokens`). */
  'chat:request': (
    request: ChatRequest,
    context: HookContext,
  ) => ChatRequest | undefined | Promise<ChatRequest | undefined>;
  /** After a non-streamed answer: rewrite the result (add citations, redact). */
  'chat:result': (
    result: ChatResult,
    context: HookContext,
  ) => ChatResult | undefined | Promise<ChatResult | undefined>;
  /**
   * Before each call to a target, after `provider:call:start`: headers to send upstream with it
   * (`CallOptions.headers`), e.g. the W3C `traceparent` of the call's span. Only runs when a hook is
   * added.
   */
  'call:headers': (
    headers: Record<string, string>,
    context: CallHookContext,
  ) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>;
}

/** Where a hook runs among its peers. */
export interface HookOptions {
  enforce?: 'pre' | 'post';
}

/** Handler of an HTTP route a plugin adds under the orchestrator's `handle`. */
export type RouteHandler = (
  request: Request,
  context: HookContext & {
    params: Record<string, string>;
    /** The API key the request carried, when the server requires keys (`admin` for an operator's key). */
    apiKey?: { id: string; admin?: true };
  },
) => Response | Promise<Response>;

/** Options of a route a plugin adds. */
export interface RouteOptions {
  /**
   * Media types of request bodies the route takes besides JSON; a state-changing request with any
   * other body gets 415 before the handler runs (so that no cross-site form or `text/plain` "simple
   * request" reaches it). `'*\/*'` takes any body: do so only for routes that browsers must not drive.
   * @example ['multipart/form-data']
   * @default [] (JSON only: `application/json` and `application/*+json`)
   */
  accepts?: string[];
  /**
   * The JSON body of an error answered on this path, for routes of an API with an error shape of its
   * own. It applies to every error of a request to the path, also those raised before the handler
   * runs (auth, the cross-site guard, 405, shutdown); the status and headers stay the error's.
   * @example (error) => ({ type: 'error', error: { type: error.type, message: error.message } })
   * @default OpenAI's `{ error: { message, type, code, param } }`
   */
  formatError?: (error: FusionError) => unknown;
  /**
   * Served without an API key, as `/health` is: only for static `GET` routes whose answer reveals
   * nothing (a login page, its script). The cross-site guard still applies.
   * @default false
   */
  public?: boolean;
}

/** Options when registering a provider. */
export interface RegisterProviderOptions {
  /** Model aliases: `{ fast: 'lab/qwen3-0.6b' }`. */
  aliases?: Record<string, string>;
}

/** Options of a call a plugin makes through the orchestrator. */
export interface PluginCallOptions {
  signal?: AbortSignal;
  requestId?: string;
}

/**
 * A plugin's part of `GET /health`: whether what it serves is ready (collections loaded, a connection
 * open). It runs on every health request, so it must be cheap and synchronous.
 */
export interface HealthCheck {
  /** Key of the check under `checks` in the health report. @example 'rag' */
  name: string;
  /**
   * `ready: false` while the plugin cannot serve yet; `GET /health/ready` answers 503 until every
   * check is ready. Other fields are reported as they are. A check that throws reads as not ready.
   * @example () => ({ ready: false, loading: ['docs'] })
   */
  check(): { ready: boolean } & Record<string, unknown>;
}

/** What a plugin's `setup` may do. Every `register*` and `hook` returns a function that undoes it. */
export interface PluginApi {
  /** A chat answer from any model or pipeline of the orchestrator (with its queue, hooks and limits). */
  chat(request: ChatRequest, options?: PluginCallOptions): Promise<ChatResult>;
  /** Embeddings from any embedding model of the orchestrator. */
  embed(request: EmbedRequest, options?: PluginCallOptions): Promise<EmbedResult>;
  registerProvider(provider: ProviderV1, options?: RegisterProviderOptions): Promise<() => void>;
  registerRouter(router: RouterV1): () => void;
  registerRetriever(retriever: RetrieverV1): () => void;
  registerStrategy(strategy: FusionStrategyV1): () => void;
  registerTool(tool: ToolV1): () => void;
  /** Serves a pipeline as a model (`fusion/moa`, `rag/docs`). */
  registerPipeline(pipeline: PipelineDefinition): () => void;
  /** Adds a readiness check to `GET /health` and `GET /health/ready` (see {@link HealthCheck}). */
  registerHealthCheck(check: HealthCheck): () => void;
  /**
   * Adds an HTTP route; `path` may hold `:name` parameters. Like every route of `handle`, it is behind
   * the API keys and the cross-site guard, and takes JSON bodies only unless `options.accepts` says more.
   * @example route('POST', '/api/rag/search', handler)
   */
  route(method: string, path: string, handler: RouteHandler, options?: RouteOptions): () => void;
  hook<TName extends keyof PluginHooks>(
    name: TName,
    hook: PluginHooks[TName],
    options?: HookOptions,
  ): () => void;
}

/**
 * A plugin: providers, routers, retrievers, strategies, tools, routes and hooks in one unit.
 *
 * @example
 * const logRequests: PluginV1 = {
 *   specificationVersion: 'v1',
 *   name: 'log-requests',
 *   setup(api) { api.hook('chat:request', (request) => { console.log(request.model); return undefined; }); },
 * };
 */
export interface PluginV1 {
  readonly specificationVersion: 'v1';
  /** Unique name. */
  readonly name: string;
  setup(api: PluginApi): void | Promise<void>;
  /** Called by `fusion.close()`, in reverse registration order. */
  teardown?(): void | Promise<void>;
}
