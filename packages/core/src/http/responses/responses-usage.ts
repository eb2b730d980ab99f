import type { Usage } from '../../spec/chat/chat-result.js';

/** Past this, a line of an event stream is not kept whole (its usage, if any, is not read). */
const MAX_LINE_CHARS = 8 * 1024 * 1024;

/** Events of the Responses API that carry the final `response`, with its usage. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** A Responses API usage (`input_tokens`, `output_tokens`) as a chat usage. */
function chatUsageOf(value: unknown): Usage | undefined {
  const usage = value as { input_tokens?: unknown; output_tokens?: unknown; total_tokens?: unknown } | null;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const prompt = typeof usage.input_tokens === 'number' ? usage.input_tokens : 0;
  const completion = typeof usage.output_tokens === 'number' ? usage.output_tokens : 0;
  const total = typeof usage.total_tokens === 'number' ? usage.total_tokens : prompt + completion;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
}

/** The usage of a response object, or of the `data` of a final event of a stream. */
function usageOfJson(text: string): Usage | undefined {
  try {
    const parsed = JSON.parse(text) as { type?: unknown; usage?: unknown; response?: { usage?: unknown } };
    if (typeof parsed.type === 'string') {
      return FINAL_EVENTS.has(parsed.type) ? chatUsageOf(parsed.response?.usage) : undefined;
    }
    return chatUsageOf(parsed.usage);
  } catch {
    return undefined;
  }
}

/**
 * The answer of an upstream that serves the Responses API itself, passed to the client unchanged,
 * with its usage read on the way (the JSON body's `usage`, or that of the stream's final
 * `response.completed` / `incomplete` / `failed` event). `onEnd` is called once the body was read to
 * its end (not when it failed or the client cancelled it).
 */
export function readResponsesUsage(
  response: Response,
  onEnd: (outcome: { usage?: Usage }) => void,
): Response {
  if (!response.body) {
    onEnd({});
    return response;
  }
  const streamed = (response.headers.get('content-type') ?? '').includes('text/event-stream');
  const decoder = new TextDecoder();
  let pending = '';
  let usage: Usage | undefined;
  const readLines = (text: string, final: boolean) => {
    pending += text;
    const lines = pending.split('\n');
    pending = final ? '' : lines.pop()!;
    if (pending.length > MAX_LINE_CHARS) pending = '';
    for (const line of lines) {
      // Only the final events are parsed; a delta that merely mentions usage is skipped cheaply.
      if (line.startsWith('data:') && line.includes('"usage"')) usage = usageOfJson(line.slice(5)) ?? usage;
    }
  };
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        const text = decoder.decode(chunk, { stream: true });
        if (streamed) readLines(text, false);
        else if (pending.length <= MAX_LINE_CHARS) pending += text;
      },
      flush() {
        const rest = decoder.decode();
        if (streamed) readLines(rest, true);
        else usage = usageOfJson(pending + rest);
        onEnd(usage ? { usage } : {});
      },
    }),
  );
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
