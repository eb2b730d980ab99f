import type { Usage } from '../spec/chat/chat-result.js';

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
 * Reads the usage of a Responses API answer as it passes by: the JSON body's `usage`, or that of the
 * stream's final `response.completed` / `incomplete` / `failed` event. Only lines that mention usage
 * are parsed.
 */
export class ResponsesUsageReader {
  readonly #streamed: boolean;
  readonly #decoder = new TextDecoder();
  #pending = '';
  #usage: Usage | undefined;
  /** Whether a stream sent a content delta yet (its first token). */
  sawDelta = false;

  constructor(streamed: boolean) {
    this.#streamed = streamed;
  }

  push(chunk: Uint8Array): void {
    const text = this.#decoder.decode(chunk, { stream: true });
    if (this.#streamed) this.#lines(text, false);
    else if (this.#pending.length <= MAX_LINE_CHARS) this.#pending += text;
  }

  /** The usage, once the whole answer went by. */
  end(): Usage | undefined {
    const rest = this.#decoder.decode();
    if (this.#streamed) this.#lines(rest, true);
    else this.#usage = usageOfJson(this.#pending + rest);
    this.#pending = '';
    return this.#usage;
  }

  #lines(text: string, final: boolean): void {
    this.#pending += text;
    const lines = this.#pending.split('\n');
    this.#pending = final ? '' : lines.pop()!;
    if (this.#pending.length > MAX_LINE_CHARS) this.#pending = '';
    for (const line of lines) {
      if (!line.startsWith('data:')) continue;
      if (!this.sawDelta && line.includes('.delta"')) this.sawDelta = true;
      if (line.includes('"usage"')) this.#usage = usageOfJson(line.slice(5)) ?? this.#usage;
    }
  }
}
