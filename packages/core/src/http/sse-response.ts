import { toFusionError } from '../errors/to-fusion-error.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { Usage } from '../spec/chat/chat-result.js';

const encoder = new TextEncoder();
const DONE = encoder.encode('data: [DONE]\n\n');
const STANDARD_FIELDS = new Set([
  'id',
  'object',
  'created',
  'model',
  'choices',
  'usage',
  'system_fingerprint',
]);

/** Headers of every SSE answer: no caching, and no buffering by nginx-like proxies. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

export interface SseOptions {
  /** Send a last chunk with `usage` and empty `choices` (OpenAI's `stream_options.include_usage`). */
  includeUsage: boolean;
  /** Called once when the stream ends, fails or is cancelled. */
  onEnd?: (outcome: { error?: unknown; usage?: Usage }) => void;
  /** Called when the client cancels the stream. */
  onCancel?: () => void;
}

/**
 * Encodes chat chunks as OpenAI's SSE stream. `first` is the chunk already read (the stream is
 * committed); the rest is pulled from the iterator on demand, so a slow client slows the upstream
 * instead of filling memory. An error after the first chunk becomes one `data: {"error": …}` event.
 */
export function sseStream(
  first: IteratorResult<ChatChunk> | undefined,
  iterator: AsyncIterator<ChatChunk>,
  options: SseOptions,
): ReadableStream<Uint8Array> {
  let pending = first;
  let usage: Usage | undefined;
  let template: ChatChunk | undefined;
  /** Extra fields of choice-less chunks (a pipeline's `fusion`), sent on the last chunk. */
  let extras: Record<string, unknown> | undefined;
  let finished = false;

  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, error?: unknown) => {
    if (finished) return;
    finished = true;
    if (error === undefined) {
      const withUsage = options.includeUsage && usage !== undefined;
      if (template && (withUsage || extras)) {
        // Only the identity of the stream is repeated: extra fields of the first chunk (citations) are not.
        const { id, object, created, model } = template;
        const last: ChatChunk = { id, object, created, model, choices: [], ...extras };
        if (withUsage) last.usage = usage;
        else delete last.usage;
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(last)}\n\n`));
      }
      controller.enqueue(DONE);
    } else {
      const body = toFusionError(error).toJSON();
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(body)}\n\n`));
    }
    controller.close();
    options.onEnd?.(error === undefined ? (usage ? { usage } : {}) : { error });
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // Loop until something is enqueued: usage-only chunks produce no event of their own.
          while (true) {
            const next = pending ?? (await iterator.next());
            pending = undefined;
            if (next.done) return finish(controller);
            const chunk = next.value;
            template ??= chunk;
            if (chunk.usage) usage = chunk.usage;
            // Usage goes out once, at the end, and only when asked for, as OpenAI does.
            if (chunk.usage !== undefined) delete chunk.usage;
            if (options.includeUsage) chunk.usage = null;
            if (chunk.choices.length === 0) {
              for (const key of Object.keys(chunk)) {
                if (!STANDARD_FIELDS.has(key)) (extras ??= {})[key] = chunk[key];
              }
              continue;
            }
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
            return;
          }
        } catch (error) {
          finish(controller, error);
        }
      },
      cancel() {
        if (finished) return;
        finished = true;
        options.onCancel?.();
        iterator.return?.().catch(() => {});
        options.onEnd?.({ error: new DOMException('The client closed the stream.', 'AbortError') });
      },
    },
    { highWaterMark: 0 },
  );
}
