import { Readable } from 'node:stream';
import {
  type CallOptions,
  type ChatChunk,
  type ChatRequest,
  type ChatResult,
  type EmbedRequest,
  type EmbedResult,
  type ForwardRequest,
  type FusionError,
  type HealthStatus,
  type ModelInfo,
  type ProviderV1,
  UnavailableError,
  UpstreamError,
} from '@fusionkit/core';
import { abortableOf, FOLLOWS_ABORT } from '@fusionkit/core/internal';
import { ChatStream } from './chat-stream.js';
import { checkHealth } from './check-health.js';
import { discoverConcurrency } from './discover-concurrency.js';
import { HttpClient, type HttpRequestOptions, type JsonResponse } from './http-client.js';
import { maxTokensOf } from './infer-finish-reason.js';
import { isRecord } from './json-guards.js';
import { toUpstreamChatBody } from './map-chat-request.js';
import { toChatResult } from './map-chat-result.js';
import { toEmbedResult } from './map-embed-result.js';
import { toModelInfo, toStaticModels } from './map-model-info.js';
import { mapUpstreamError } from './map-upstream-error.js';
import type { OpenAICompatibleOptions } from './openai-compatible-options.js';

/** The provider {@link createOpenAICompatible} returns: every optional method of ProviderV1 it implements is there. */
export interface OpenAICompatibleProvider extends ProviderV1 {
  /** The upstream's base URL, normalised (no trailing slash). @example 'http://127.0.0.1:8000/v1' */
  readonly baseURL: string;
  doEmbed(request: EmbedRequest, options: CallOptions): Promise<EmbedResult>;
  doForward(request: ForwardRequest, options: CallOptions): Promise<Response>;
  health(options?: { signal?: AbortSignal }): Promise<HealthStatus>;
  close(): Promise<void>;
}

const MAX_ERROR_BYTES = 1024 * 1024;

/** Its calls fail the moment their scope aborts (the upstream exchange follows it): no race needed. */
const FOLLOWS_ITS_ABORT: object = { [FOLLOWS_ABORT]: true };

/**
 * A provider for any OpenAI-compatible server, mlx-openai-server first (upstream v1.8.1 and the lab
 * fork). Requests go over `node:http(s)` with a pool of keep-alive connections.
 *
 * @example
 * const lab = createOpenAICompatible({ id: 'lab', baseURL: 'http://127.0.0.1:8000/v1' });
 */
export function createOpenAICompatible(options: OpenAICompatibleOptions): OpenAICompatibleProvider {
  const { id } = options;
  if (typeof id !== 'string' || id === '' || id.includes('/')) {
    throw new TypeError(`Provider id must be a non-empty string without '/', got '${String(id)}'.`);
  }
  const flavor = options.flavor ?? 'auto';
  const timeoutMs = options.timeoutMs ?? 600_000;
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const maxEventBytes = options.maxEventBytes ?? 8 * 1024 * 1024;
  const staticModels = options.models ? toStaticModels(options.models) : undefined;
  const maxSockets = positiveLimit(options.maxSockets, 'maxSockets') ?? Number.POSITIVE_INFINITY;
  const concurrency = positiveLimit(options.concurrency, 'concurrency');
  const healthTimeoutMs = options.healthTimeoutMs ?? 5000;
  const client = new HttpClient({
    providerId: id,
    baseURL: options.baseURL,
    headers: baseHeaders(options),
    maxSockets,
    freeSocketTimeoutMs: options.freeSocketTimeoutMs ?? 4000,
  });
  let closed = false;

  /**
   * What each model tells the orchestrator's queue: the configured or discovered limit, never more
   * than the sockets, so no call admitted by the queue waits again for a connection here.
   */
  const modelConcurrency = async (signal: AbortSignal | undefined): Promise<number> => {
    const limit =
      concurrency ??
      (flavor === 'openai'
        ? undefined
        : await discoverConcurrency(client, { timeoutMs: healthTimeoutMs, ...(signal ? { signal } : {}) }));
    return Math.min(limit ?? Number.POSITIVE_INFINITY, maxSockets);
  };

  const callOptions = (call: CallOptions, path: string, body: unknown): HttpRequestOptions => {
    if (closed) throw new UnavailableError(`Provider '${id}' is closed.`);
    const headers: Record<string, string> = {
      ...lowerCaseKeys(call.headers),
      'x-request-id': call.requestId,
    };
    return {
      method: 'POST',
      path,
      body,
      headers,
      signal: abortableOf(call),
      timeoutMs: remaining(timeoutMs, call.deadline),
    };
  };
  const expectSuccess = (response: JsonResponse): unknown => {
    const context = { providerId: id, headers: response.headers };
    if (response.status < 200 || response.status >= 300)
      throw mapUpstreamError(response.status, response.text, context);
    if (isRecord(response.body) && response.body.error != null)
      throw mapUpstreamError(200, response.body, context);
    if (response.body === undefined)
      throw new UpstreamError(`The upstream of provider '${id}' answered with a body that is not JSON.`);
    return response.body;
  };

  return {
    specificationVersion: 'v1',
    id,
    baseURL: client.baseURL,
    ...FOLLOWS_ITS_ABORT,

    async models(modelOptions) {
      // A static list stays offline: it is the configured truth, limits included (`concurrency`).
      if (staticModels) return withConcurrency(staticModels, Math.min(concurrency ?? maxSockets, maxSockets));
      if (closed) throw new UnavailableError(`Provider '${id}' is closed.`);
      const limit = modelConcurrency(modelOptions?.signal);
      const response = await client.fetchJson({
        method: 'GET',
        path: '/models',
        signal: modelOptions?.signal,
        timeoutMs,
        maxBytes: maxResponseBytes,
      });
      const body = expectSuccess(response);
      const entries = isRecord(body) && Array.isArray(body.data) ? body.data : [];
      const infos = entries.filter(isRecord).flatMap((entry): ModelInfo[] => {
        const info = toModelInfo(entry);
        return info ? [info] : [];
      });
      return withConcurrency(infos, await limit);
    },

    async doChat(request: ChatRequest, call: CallOptions): Promise<ChatResult> {
      const body = toUpstreamChatBody(request, flavor, false);
      const response = await client.fetchJson({
        ...callOptions(call, '/chat/completions', body),
        maxBytes: maxResponseBytes,
      });
      return toChatResult(expectSuccess(response), request);
    },

    doStream(request: ChatRequest, call: CallOptions): AsyncIterable<ChatChunk> {
      const body = toUpstreamChatBody(request, flavor, true);
      return new ChatStream({
        start: (onFailure: (error: FusionError) => void) => {
          const sendOptions = callOptions(call, '/chat/completions', body);
          sendOptions.headers = { ...sendOptions.headers, accept: 'text/event-stream' };
          return client.send({ ...sendOptions, onFailure });
        },
        model: request.model,
        maxTokens: maxTokensOf(request),
        providerId: id,
        maxEventBytes,
        maxErrorBytes: MAX_ERROR_BYTES,
      });
    },

    ...(options.responses
      ? {
          async doResponses(body: Record<string, unknown>, call: CallOptions): Promise<Response> {
            const streamed = body.stream === true;
            const sendOptions = callOptions(call, '/responses', body);
            sendOptions.headers = {
              ...sendOptions.headers,
              accept: streamed ? 'text/event-stream' : 'application/json',
            };
            const exchange = client.send(sendOptions);
            const response = await exchange.response();
            const status = response.statusCode ?? 502;
            const contentType = response.headers['content-type'] ?? 'application/json';
            if (status < 200 || status >= 300 || !streamed) {
              const text = (await exchange.readBody(maxResponseBytes)).toString('utf8');
              if (status < 200 || status >= 300)
                throw mapUpstreamError(status, text, { providerId: id, headers: response.headers });
              return new Response(text, { status, headers: { 'content-type': contentType } });
            }
            // A stream that started is timed by the client; it ends when either side goes away.
            exchange.stopTimer();
            // 'close' comes after 'end', and also when the client cancelled the stream before it.
            response.once('close', () => exchange.release());
            const events = Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>;
            return new Response(events, {
              status,
              headers: {
                'content-type': contentType,
                'cache-control': 'no-cache',
                'x-accel-buffering': 'no',
              },
            });
          },
        }
      : {}),

    async doEmbed(request: EmbedRequest, call: CallOptions): Promise<EmbedResult> {
      const body: Record<string, unknown> = {
        model: request.model,
        input: request.input,
        encoding_format: 'float',
      };
      if (request.dimensions !== undefined) body.dimensions = request.dimensions;
      if (request.user !== undefined) body.user = request.user;
      const response = await client.fetchJson({
        ...callOptions(call, '/embeddings', body),
        maxBytes: maxResponseBytes,
      });
      return toEmbedResult(expectSuccess(response), request);
    },

    async doForward(request: ForwardRequest, call: CallOptions): Promise<Response> {
      const sendOptions = callOptions(call, request.path, undefined);
      if (request.body instanceof FormData) {
        // The platform encodes the form (boundary, file names and types); the bytes go out with `content-length`.
        const encoded = new Response(request.body);
        sendOptions.rawBody = {
          bytes: Buffer.from(await encoded.arrayBuffer()),
          contentType: encoded.headers.get('content-type') ?? 'multipart/form-data',
        };
      } else sendOptions.body = request.body;
      const exchange = client.send(sendOptions);
      const upstream = await exchange.response();
      const bytes = await exchange.readBody(maxResponseBytes);
      const status = upstream.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        throw mapUpstreamError(status, bytes.toString('utf8'), { providerId: id, headers: upstream.headers });
      }
      const type = upstream.headers['content-type'];
      return new Response(new Uint8Array(bytes), {
        status,
        headers: { 'content-type': typeof type === 'string' ? type : 'application/json' },
      });
    },

    async health(healthOptions) {
      if (closed) return { status: 'unhealthy', message: `Provider '${id}' is closed.` };
      return checkHealth({
        client,
        queueStats: flavor !== 'openai',
        timeoutMs: healthTimeoutMs,
        signal: healthOptions?.signal,
      });
    },

    async close() {
      closed = true;
      client.close();
    },
  };
}

/** Copies of the models, each with `limit` as its concurrency unless it states its own (or none is known). */
function withConcurrency(models: readonly ModelInfo[], limit: number | undefined): ModelInfo[] {
  return models.map((model) =>
    limit === undefined || !Number.isFinite(limit) || model.concurrency !== undefined
      ? { ...model }
      : { ...model, concurrency: limit },
  );
}

/** A limit option: a positive integer (or `Infinity`), else a TypeError naming it. */
function positiveLimit(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1)) return value;
  throw new TypeError(`${name} must be a positive integer, got ${String(value)}.`);
}

function baseHeaders(options: OpenAICompatibleOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': '@fusionkit/openai',
    ...lowerCaseKeys(options.headers),
  };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers) for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

/** The provider timeout, shortened to the call's deadline. */
function remaining(timeoutMs: number, deadline: number | undefined): number {
  return deadline === undefined ? timeoutMs : Math.min(timeoutMs, deadline - Date.now());
}
