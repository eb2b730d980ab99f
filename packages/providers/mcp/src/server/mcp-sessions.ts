import type { KeyvLike } from '@fusionkit/core';
import type { AuthInfo } from '@modelcontextprotocol/server';
import {
  type EventStore,
  isInitializeRequest,
  type McpServer,
  type Server,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { McpEndpointFactory } from './create-mcp-server.js';
import { jsonRpcError } from './guard-request.js';
import { MemoryEventStore } from './memory-event-store.js';
import { lowLevelServer, subscribedUris } from './resource-subscriptions.js';

const SESSION_HEADER = 'mcp-session-id';

/** Options of the stateful mode of `/mcp` (2025-era clients keep one server instance per session). */
export interface McpSessionOptions {
  /**
   * Sessions idle (no request, no open stream) this long are ended; their next request gets 404 and
   * the client starts a new session, as the spec says.
   * @default 1_800_000 (30 minutes)
   */
  idleTimeoutMs?: number;
  /** Sessions open at once; an `initialize` beyond gets 503 with `Retry-After`. @default 1000 */
  maxSessions?: number;
  /**
   * Where the messages of the SSE streams are kept so that a client reconnecting with
   * `Last-Event-ID` gets what it missed. @default an in-memory store of the last 1000 events per stream
   */
  eventStore?: EventStore;
  /** The `retry` hint of the SSE streams, milliseconds. @default 1000 */
  retryIntervalMs?: number;
  /**
   * Where sessions are recorded so that every instance serving `/mcp` knows them: the orchestrator's
   * state store (a Keyv over Redis when several instances share it). An instance that gets a
   * request for a session another one opened takes the session up (its server instance is
   * initialized again from the recorded `initialize`), and `DELETE` ends it for all. Without it,
   * sessions live in the process that opened them (route a session to one instance).
   * @example new Keyv(new KeyvRedis('redis://127.0.0.1:6379'), { namespace: 'mcp-sessions' })
   */
  store?: KeyvLike<McpSessionRecord>;
}

/**
 * What the store keeps of a session: the client's `initialize`, to take the session up elsewhere,
 * and the API key that opened it.
 */
export interface McpSessionRecord {
  /** The id of the API key that opened the session: only requests with that key may use it. */
  owner?: string;
  initialize: {
    protocolVersion: string;
    capabilities: unknown;
    clientInfo: unknown;
    [extra: string]: unknown;
  };
}

interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: McpServer | Server;
  idleTimer?: ReturnType<typeof setTimeout>;
  active: number;
  /** The id of the API key that opened it. */
  owner: string | undefined;
  /** What the store keeps, and when it was last written (its expiry follows use). */
  record?: McpSessionRecord;
  stored?: number;
}

/**
 * The stateful mode of the Streamable HTTP endpoint for 2025-era clients: `initialize` opens a
 * session (`Mcp-Session-Id`) served by one server instance over the SDK's Web-standard transport, so
 * notifications, `notifications/cancelled`, `logging/setLevel`, resource subscriptions and
 * server-to-client requests (sampling, elicitation) reach the calls they belong to; `GET` opens the
 * session's notification stream (resumable with `Last-Event-ID`), `DELETE` ends the session, and an
 * unknown or ended session gets 404.
 */
export class McpSessions {
  readonly #factory: McpEndpointFactory;
  readonly #sessions = new Map<string, Session>();
  /** Take-ups under way, by session id: concurrent requests for one session initialize it once. */
  readonly #takingUp = new Map<string, Promise<Session | undefined | 'full'>>();
  readonly #idleTimeoutMs: number;
  readonly #maxSessions: number;
  readonly #eventStore: EventStore;
  readonly #retryIntervalMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #store: KeyvLike<McpSessionRecord> | undefined;

  constructor(
    factory: McpEndpointFactory,
    options: McpSessionOptions = {},
    onError?: (error: Error) => void,
  ) {
    this.#factory = factory;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30 * 60_000;
    this.#maxSessions = options.maxSessions ?? 1000;
    this.#eventStore = options.eventStore ?? new MemoryEventStore();
    this.#retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.#onError = onError;
    this.#store = options.store;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Whether this request belongs to the sessions: it names one, or it opens one. */
  claims(request: Request, parsedBody: unknown): boolean {
    if (request.headers.has(SESSION_HEADER)) return true;
    return request.method === 'POST' && isInitializeRequest(parsedBody);
  }

  /**
   * Serves a request {@link claims} gave to the sessions. `authInfo.clientId` is the id of the API
   * key the request carried (when the server requires keys): a session is used only with the key
   * that opened it; to any other it is as unknown as one never opened (404). The tools see
   * `authInfo` too (their calls are charged to that key).
   */
  async handle(request: Request, parsedBody?: unknown, authInfo?: AuthInfo): Promise<Response> {
    const owner = authInfo?.clientId;
    const sessionId = request.headers.get(SESSION_HEADER);
    if (sessionId) {
      const known = this.#sessions.get(sessionId);
      let session: Session | undefined | 'full' = known;
      // Shared through a store, a session another instance ended (DELETE) is gone here too.
      if (known && this.#store && (await this.#store.get(sessionId).catch(() => known.record)) == null) {
        this.#forget(sessionId);
        session = undefined;
      } else session ??= await this.#takeUpOnce(sessionId, request, owner);
      if (session === 'full') return tooManySessions();
      if (!session || session.owner !== owner) {
        return jsonRpcError(404, -32001, 'Session not found: initialize a new session.');
      }
      if (request.method === 'DELETE') await this.#store?.delete?.(sessionId).catch(() => {});
      return this.#serve(session, request, parsedBody, authInfo);
    }
    if (this.#sessions.size + this.#takingUp.size >= this.#maxSessions) return tooManySessions();
    return this.#open(request, parsedBody, authInfo);
  }

  /** Calls `send` with the server instance of every session (a failed send is ignored). */
  broadcast(send: (server: McpServer | Server) => unknown): void {
    for (const session of this.#sessions.values()) {
      try {
        void Promise.resolve(send(session.server)).catch(() => {});
      } catch {}
    }
  }

  /** Sends `notifications/resources/updated` to the sessions subscribed to `uri`. */
  resourceUpdated(uri: string): void {
    this.broadcast((server) =>
      subscribedUris(server).has(uri) ? lowLevelServer(server).sendResourceUpdated({ uri }) : undefined,
    );
  }

  /** Ends every session (the server is shutting down). */
  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(sessions.map((session) => this.#end(session)));
  }

  async #open(request: Request, parsedBody: unknown, authInfo: AuthInfo | undefined): Promise<Response> {
    const owner = authInfo?.clientId;
    const session = await this.#create(request, crypto.randomUUID(), owner);
    const initialize = (parsedBody as { params?: McpSessionRecord['initialize'] }).params;
    const response = await this.#serve(session, request, parsedBody, authInfo);
    const id = session.transport.sessionId;
    if (!id) await session.server.close().catch(() => {});
    else if (initialize) {
      session.record = { initialize, ...(owner === undefined ? {} : { owner }) };
      await this.#record(id, session);
    }
    return response;
  }

  /**
   * Takes a session up once however many requests for it arrive together: the others wait for the
   * first and use the session it initialized. A take-up that found nothing (or not for this key)
   * lets the next waiter try its own.
   */
  async #takeUpOnce(
    id: string,
    request: Request,
    owner: string | undefined,
  ): Promise<Session | undefined | 'full'> {
    for (let running = this.#takingUp.get(id); running; running = this.#takingUp.get(id)) {
      await running.catch(() => undefined);
      const session = this.#sessions.get(id);
      if (session) return session;
    }
    const existing = this.#sessions.get(id);
    if (existing) return existing;
    const takingUp = this.#takeUp(id, request, owner);
    this.#takingUp.set(id, takingUp);
    try {
      return await takingUp;
    } finally {
      if (this.#takingUp.get(id) === takingUp) this.#takingUp.delete(id);
    }
  }

  /**
   * A session another instance opened, found in the store: initialized again here, under its id,
   * within `maxSessions`, and only for the key that opened it.
   */
  async #takeUp(
    id: string,
    request: Request,
    owner: string | undefined,
  ): Promise<Session | undefined | 'full'> {
    const record = await this.#store?.get(id).catch(() => undefined);
    if (!record || record.owner !== owner) return undefined;
    // This take-up counts among #takingUp already.
    if (this.#sessions.size + this.#takingUp.size > this.#maxSessions) return 'full';
    const session = await this.#create(request, id, record.owner);
    session.record = record;
    session.stored = Date.now();
    const replay = (body: unknown) =>
      session.transport
        .handleRequest(
          new Request(request.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          }),
          { parsedBody: body },
        )
        .then((response) => response.text());
    await replay({ jsonrpc: '2.0', id: `take-up-${id}`, method: 'initialize', params: record.initialize });
    await replay({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (!this.#sessions.has(id)) {
      await session.server.close().catch(() => {});
      return undefined;
    }
    return session;
  }

  async #create(request: Request, id: string, owner: string | undefined): Promise<Session> {
    const server = await this.#factory({ era: 'legacy', requestInfo: request }, { stateful: true });
    let session: Session | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: this.#eventStore,
      retryInterval: this.#retryIntervalMs,
      onsessioninitialized: (id) => {
        if (session) this.#sessions.set(id, session);
      },
      onsessionclosed: (id) => {
        this.#forget(id);
      },
    });
    session = { transport, server, active: 0, owner };
    transport.onclose = () => {
      if (transport.sessionId) this.#forget(transport.sessionId);
    };
    if (this.#onError) transport.onerror = this.#onError;
    await server.connect(transport);
    return session;
  }

  /** Writes the session to the store, so that its expiry there follows its use. */
  async #record(id: string, session: Session): Promise<void> {
    if (!this.#store || !session.record) return;
    session.stored = Date.now();
    await this.#store
      .set(id, session.record, this.#idleTimeoutMs)
      .catch((error: Error) => this.#onError?.(error));
  }

  async #serve(
    session: Session,
    request: Request,
    parsedBody: unknown,
    authInfo: AuthInfo | undefined,
  ): Promise<Response> {
    clearTimeout(session.idleTimer);
    const id = session.transport.sessionId;
    if (id && request.method !== 'DELETE' && Date.now() - (session.stored ?? 0) > 60_000) {
      await this.#record(id, session);
    }
    session.active++;
    let response: Response;
    try {
      // The tools learn the request's API key by its id (`clientId`), to charge its calls to it.
      response = await session.transport.handleRequest(request, {
        parsedBody,
        ...(authInfo ? { authInfo } : {}),
      });
    } catch (error) {
      this.#release(session);
      throw error;
    }
    return whenBodyEnds(response, () => this.#release(session));
  }

  #release(session: Session): void {
    session.active = Math.max(0, session.active - 1);
    if (session.active > 0 || !session.transport.sessionId) return;
    const id = session.transport.sessionId;
    if (!this.#sessions.has(id)) return;
    session.idleTimer = setTimeout(() => {
      if (this.#sessions.get(id) === session && session.active === 0) {
        this.#sessions.delete(id);
        void this.#end(session);
      }
    }, this.#idleTimeoutMs);
    session.idleTimer.unref?.();
  }

  #forget(id: string): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    clearTimeout(session.idleTimer);
    void session.server.close().catch(() => {});
  }

  async #end(session: Session): Promise<void> {
    clearTimeout(session.idleTimer);
    await session.server.close().catch(() => {});
  }
}

function tooManySessions(): Response {
  return jsonRpcError(503, -32000, 'Too many MCP sessions are open; try again later.', {
    'retry-after': '5',
  });
}

/** The response, with `done` called once its body is read to the end, fails or is cancelled. */
export function whenBodyEnds(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    done();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: ended, value } = await reader.read();
        if (ended) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
