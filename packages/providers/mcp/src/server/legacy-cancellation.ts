import { isInitializeRequest, isJSONRPCNotification, isJSONRPCRequest } from '@modelcontextprotocol/server';
import { whenBodyEnds } from './mcp-sessions.js';

const SESSION_HEADER = 'mcp-session-id';

type RequestId = string | number;

/**
 * `notifications/cancelled` for 2025-era clients over HTTP. The SDK serves them statelessly, one
 * server instance per POST, so the cancellation such a client POSTs on its own reaches an instance
 * that never saw the call, and the model call runs on. This gives each client an `Mcp-Session-Id` at
 * `initialize` (the spec's header, which the client then sends with every request) and keeps, for
 * the calls running, an abort signal by session and request id that the notification aborts.
 *
 * The id only pairs a cancellation with its call: nothing else is kept per session, no request is
 * refused for an id this process did not issue (clients of an orchestrator that restarted go on).
 */
export class LegacyCancellation {
  readonly #running = new Map<string, AbortController>();

  /**
   * Serves one POST of a 2025-era client through `next`: aborts the calls its cancellations name,
   * gives a request the signal its cancellation will abort (as the `Request`'s own signal, which the
   * tools read), and gives an `initialize` answer a session id.
   */
  async serve(
    request: Request,
    body: unknown,
    next: (request: Request) => Promise<Response>,
  ): Promise<Response> {
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    const sessionId = request.headers.get(SESSION_HEADER);
    if (sessionId) {
      for (const message of messages) {
        if (!isJSONRPCNotification(message) || message.method !== 'notifications/cancelled') continue;
        const params = message.params as { requestId?: RequestId; reason?: string } | undefined;
        if (params?.requestId !== undefined) this.#cancel(sessionId, params.requestId, params.reason);
      }
    }
    const calls = sessionId ? messages.filter((message) => isJSONRPCRequest(message)) : [];
    if (!sessionId || calls.length === 0) {
      const response = await next(request);
      return messages.some((message) => isInitializeRequest(message)) ? withSessionId(response) : response;
    }
    const controller = new AbortController();
    const keys = calls.map((call) => keyOf(sessionId, call.id));
    for (const key of keys) this.#running.set(key, controller);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const key of keys) if (this.#running.get(key) === controller) this.#running.delete(key);
    };
    // The body was read already (the SDK is given it parsed); only the signal changes.
    const forwarded = new Request(request.url, {
      method: request.method,
      headers: request.headers,
      signal: AbortSignal.any([request.signal, controller.signal]),
    });
    request.signal.addEventListener('abort', release, { once: true });
    try {
      return whenBodyEnds(await next(forwarded), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** How many calls can be cancelled now (for tests). */
  get size(): number {
    return this.#running.size;
  }

  #cancel(sessionId: string, requestId: RequestId, reason: string | undefined): void {
    const key = keyOf(sessionId, requestId);
    const controller = this.#running.get(key);
    if (!controller) return;
    this.#running.delete(key);
    controller.abort(new DOMException(reason ?? 'The client cancelled the request.', 'AbortError'));
  }
}

function keyOf(sessionId: string, requestId: RequestId): string {
  return `${sessionId}\u0000${typeof requestId}:${requestId}`;
}

function withSessionId(response: Response): Response {
  if (!response.ok || response.headers.has(SESSION_HEADER)) return response;
  const headers = new Headers(response.headers);
  headers.set(SESSION_HEADER, crypto.randomUUID());
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
