import { hasContent } from '../calls/call-model.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { Fusion } from '../fusion/fusion.js';
import type { RequestOptions } from '../fusion/fusion-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import { ABORT_SCOPE, type Abortable, abortableOf, isAbortScope } from '../util/abort-scope.js';
import { onReady, type ReadyValues, takeReady } from '../util/ready-values.js';
import { withErrorHeaders } from './responses.js';

/** The header that names the trace of a fused answer (`GET /api/fusion/traces/{id}`). */
export const TRACE_HEADER = 'x-fusion-trace-id';

/** What a route that translates another API into a chat call passes along. */
export interface ChatCallContext {
  requestId: string;
  /** The request's signal, or the scope the node adapter gives instead (see {@link chatCallContext}). */
  abort: Abortable | undefined;
  /** The API key the call is made for (its tokens count there). */
  apiKeyId?: string | undefined;
}

/** The chat call context of a route's request (its id, what aborts it, its key). */
export function chatCallContext(
  context: Parameters<RouteHandler>[1],
  apiKeyId: string | undefined = context.apiKey?.id,
): ChatCallContext {
  return { requestId: context.requestId, abort: abortableOf(context), apiKeyId };
}

/** Request options following `abort` (a scope is followed without making its signal). */
function requestOptions(
  { requestId, abort, apiKeyId }: ChatCallContext,
  onTrace: (trace: FusionTrace) => void,
): RequestOptions {
  const options: RequestOptions = { requestId, apiKeyId, onTrace };
  if (isAbortScope(abort)) options[ABORT_SCOPE] = abort;
  else options.signal = abort;
  return options;
}

/**
 * A complete chat answer for a route that speaks another API, with the response headers it must
 * carry (a fused answer's trace id). A failed fused request keeps its trace header.
 */
export async function answerChat(
  fusion: Fusion,
  chat: ChatRequest,
  context: ChatCallContext,
): Promise<{ result: ChatResult; headers: Record<string, string> | undefined }> {
  let traceId: string | undefined;
  try {
    const result = await fusion.chat(
      chat,
      requestOptions(context, (trace) => {
        traceId = trace.id;
      }),
    );
    return { result, headers: traceId ? { [TRACE_HEADER]: traceId } : undefined };
  } catch (error) {
    throw traceId ? withErrorHeaders(error, { [TRACE_HEADER]: traceId }) : error;
  }
}

/** A chat stream opened up to its first content chunk; see {@link openChatStream}. */
export interface OpenedChatStream {
  /** The chunks read ahead, then the rest of the stream. */
  chunks: AsyncIterator<ChatChunk>;
  /** The model answering (a pipeline keeps its name). */
  model: string;
  /** Headers of the answer: `x-request-id` and a fused answer's trace id. */
  headers: Record<string, string>;
  /** Stops the upstream at once: the client went away. */
  cancel(): void;
  /** Call once when the stream ended, failed or was cancelled: reports it and frees the request. */
  end(outcome: { error?: unknown; usage?: Usage }): void;
}

/**
 * Opens a chat stream for a route that answers it in another API's events. The stream commits at its
 * first content chunk: errors before it are thrown here, so that the route answers them with a proper
 * HTTP status; after it, they are the event source's to report. Emits `stream:start` and, through
 * `end`, `stream:end` or `stream:error`, as the chat completions route does.
 */
export async function openChatStream(
  fusion: Fusion,
  chat: ChatRequest,
  context: ChatCallContext,
  request: Request,
): Promise<OpenedChatStream> {
  const { requestId } = context;
  let traceId: string | undefined;
  // undici's Request follows its init signal through a WeakRef: hold it until the stream ends.
  const held: { request?: Request } = { request };
  // Its `return()` stops the upstream at once, also while a chunk is pending (see `fusion.stream`).
  const iterator = fusion
    .stream(
      chat,
      requestOptions(context, (trace) => {
        traceId = trace.id;
      }),
    )
    [Symbol.asyncIterator]();
  // Usually one chunk (the role's) or none: a literal holds it; `push` onto `[]` reserves room for 17.
  let buffered: ChatChunk[] | undefined;
  let next: IteratorResult<ChatChunk>;
  try {
    next = await iterator.next();
    while (!next.done && !hasContent(next.value)) {
      if (buffered === undefined) buffered = [next.value];
      else buffered.push(next.value);
      next = await iterator.next();
    }
  } catch (error) {
    throw traceId ? withErrorHeaders(error, { [TRACE_HEADER]: traceId }) : error;
  }
  const model = next.done ? chat.model : next.value.model;
  const events = fusion.events;
  events.emit('stream:start', { requestId, model });
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (traceId) headers[TRACE_HEADER] = traceId;
  let ended = false;
  return {
    chunks: replayThen(buffered, next, iterator),
    model,
    headers,
    cancel: () => {
      iterator.return?.().catch(() => {});
    },
    end: ({ error, usage }) => {
      if (ended) return;
      ended = true;
      held.request = undefined;
      if (error === undefined)
        events.emit('stream:end', usage ? { requestId, model, usage } : { requestId, model });
      else events.emit('stream:error', { requestId, model, error: toFusionError(error) });
    },
  };
}

/**
 * The chunks read ahead (`buffered`, then `current`), then the rest of the stream. Not `async`: the
 * rest's own promise is passed on, without one more to settle per chunk.
 */
function replayThen(
  buffered: readonly ChatChunk[] = [],
  current: IteratorResult<ChatChunk>,
  rest: AsyncIterator<ChatChunk>,
): AsyncIterator<ChatChunk> & ReadyValues<ChatChunk> {
  let index = 0;
  let currentSent = false;
  return {
    takeReady: () => {
      if (index < buffered.length) return buffered[index++];
      if (!currentSent) {
        if (current.done) return undefined;
        currentSent = true;
        return current.value;
      }
      return takeReady(rest);
    },
    onReady: (callback) => index >= buffered.length && currentSent && onReady(rest, callback),
    next: () => {
      if (index < buffered.length) return Promise.resolve({ done: false, value: buffered[index++]! });
      if (!currentSent) {
        currentSent = true;
        return Promise.resolve(current);
      }
      return rest.next();
    },
    return: async () => {
      await rest.return?.();
      return { done: true, value: undefined };
    },
  };
}
