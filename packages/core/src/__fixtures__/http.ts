import type { Fusion } from '../fusion/fusion.js';

/** Base URL of requests sent straight to `fusion.handle`. */
export const BASE = 'http://fusion.localhost';

/** A chat request body. */
export function chatBody(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'Say hello' }], ...extra };
}

/** Sends a JSON POST (or a raw string body) to `fusion.handle`. */
export function post(
  fusion: Fusion,
  path: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  const request = new Request(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  return fusion.handle(request);
}

/** Sends a GET to `fusion.handle`. */
export function get(fusion: Fusion, path: string, headers?: Record<string, string>): Promise<Response> {
  return fusion.handle(new Request(`${BASE}${path}`, headers ? { headers } : {}));
}

/** The events of an SSE body: parsed `data:` payloads, and whether it ended with `[DONE]`. */
export interface SseEvents {
  events: Record<string, unknown>[];
  done: boolean;
}

/** Parses one SSE text into its events. */
export function parseSse(text: string): SseEvents {
  const result: SseEvents = { events: [], done: false };
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice(6))
      .join('\n');
    if (data === '[DONE]') result.done = true;
    else result.events.push(JSON.parse(data) as Record<string, unknown>);
  }
  return result;
}

/** Reads a whole SSE response. */
export async function readSse(response: Response): Promise<SseEvents> {
  return parseSse(await response.text());
}

/** Reads SSE events one at a time from a response body. */
export function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    reader,
    /** The next event's payload (`'[DONE]'` for the end marker), or undefined when the body ended. */
    async next(): Promise<Record<string, unknown> | '[DONE]' | undefined> {
      while (true) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.replace(/^data: /, '');
          return data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Record<string, unknown>);
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The error body of OpenAI's shape, asserted loosely by the callers. */
export interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}
