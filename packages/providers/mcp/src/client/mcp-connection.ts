import { type CallToolResult, Client, type Tool, type Transport } from '@modelcontextprotocol/client';
import { createTransport } from './create-transport.js';
import { describeFetchFailure, isConnectionDropped, isSessionEnded } from './http-failures.js';
import type { McpServerConfig } from './mcp-server-config.js';
import { InvalidServerOutputError, ProcessTransport } from './process-transport.js';

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.1.0';

/** What a connection tells its owner. */
export interface McpConnectionEvents {
  /** The server's tools, after every (re)connect and every `notifications/tools/list_changed`. */
  onTools?(tools: Tool[]): void;
  /** A start failed, the server crashed or wrote junk; reporting only. */
  onError?(error: Error): void;
}

/** The state of a connection, for health and errors. */
export type McpConnectionState = 'idle' | 'connecting' | 'connected' | 'restarting' | 'closed';

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One external MCP server: started (stdio) or reached (HTTP), its tools listed (again whenever it
 * sends `notifications/tools/list_changed`), calls made with a timeout of their own. A server that
 * crashes, or writes to stdout what is not an MCP message, fails the calls it was running with an
 * error that says so, and is started again after a delay that doubles with every failed start (up to
 * `maxRestartDelayMs`). An HTTP server that forgot the session (it restarted) gets a new one, and the
 * call that found out is sent once more; one that cannot be reached is tried again on the next call.
 */
export class McpConnection {
  readonly name: string;
  readonly config: McpServerConfig;
  readonly #events: McpConnectionEvents;
  #state: McpConnectionState = 'idle';
  #client: Client | undefined;
  #transport: Transport | undefined;
  #connecting: Promise<Client> | undefined;
  #failure: string | undefined;
  #restartDelay: number;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #tools: Tool[] = [];
  #listing: Promise<void> | undefined;
  #listAgain = false;
  /** Calls running, by client: a client whose session ended is closed once its last call settles. */
  readonly #running = new Map<Client, number>();
  readonly #retired = new Set<Client>();

  constructor(name: string, config: McpServerConfig, events: McpConnectionEvents = {}) {
    if (!config.command === !config.url) {
      throw new TypeError(`MCP server '${name}': give either 'command' (stdio) or 'url' (Streamable HTTP).`);
    }
    this.name = name;
    this.config = config;
    this.#events = events;
    this.#restartDelay = config.restartDelayMs ?? 500;
  }

  get state(): McpConnectionState {
    return this.#state;
  }

  /** The tools the server listed at the last connect. */
  get tools(): readonly Tool[] {
    return this.#tools;
  }

  /** The process id of a stdio server while it runs. */
  get pid(): number | undefined {
    return this.#transport instanceof ProcessTransport ? this.#transport.pid : undefined;
  }

  /** Starts the server (if not running) and resolves once its tools are listed. */
  connect(): Promise<Client> {
    if (this.#state === 'closed') return Promise.reject(new Error(`MCP server '${this.name}' is closed.`));
    if (this.#client && this.#state === 'connected') return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<Client> {
    this.#state = 'connecting';
    this.#failure = undefined;
    const transport = createTransport(this.config);
    const client = new Client({ name: 'fusion', version: VERSION });
    const timeoutMs = this.config.connectTimeoutMs ?? 15_000;
    client.onerror = (error) => this.#onError(transport, error);
    client.onclose = () => this.#onClose(transport);
    this.#listAgain = false;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      // While connecting, the listing under way may predate the change: list again once connected.
      if (client === this.#client) this.#relist();
      else this.#listAgain = true;
    });
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      await Promise.race([
        client.connect(transport, { timeout: timeoutMs }),
        delay(timeoutMs + 50, timeout).then(() => {
          throw new Error(`did not answer within ${timeoutMs} ms`);
        }),
      ]);
      const listed = await client.listTools(undefined, { timeout: timeoutMs });
      this.#tools = listed.tools;
    } catch (error) {
      const reason = this.#describe(error, transport);
      await transport.close().catch(() => {});
      if (this.#state !== 'connecting') throw new Error(`MCP server '${this.name}' is closed.`);
      this.#state = 'restarting';
      this.#scheduleRestart();
      const failure = new Error(
        `MCP server '${this.name}' could not ${this.config.url ? 'be reached' : 'start'}: ${reason}`,
      );
      this.#events.onError?.(failure);
      throw failure;
    }
    if (this.#state !== 'connecting') {
      await transport.close().catch(() => {});
      throw new Error(`MCP server '${this.name}' is closed.`);
    }
    this.#client = client;
    this.#transport = transport;
    this.#state = 'connected';
    this.#events.onTools?.(this.#tools);
    if (this.#listAgain) this.#relist();
    return client;
  }

  /**
   * Junk on stdout means the server can no longer be trusted to answer: end it and start again. An
   * HTTP server that answers 404 for our session (on the notification stream, typically, right after
   * it restarted) gets a new session now, before a call has to find out.
   */
  #onError(transport: Transport, error: Error): void {
    if (transport !== this.#transport) return;
    if (isSessionEnded(error, transport)) {
      void this.#renew(this.#client).catch(() => {});
      return;
    }
    if (!(error instanceof InvalidServerOutputError)) return;
    this.#failure = `MCP server '${this.name}' ${error.message}`;
    this.#events.onError?.(new Error(this.#failure));
    void this.#client?.close().catch(() => {});
  }

  /**
   * Drops a session the server no longer knows and starts a new one, once however many ask. Calls
   * still running on the old session get their own answer (a 404, which sends them again) before
   * its client is closed.
   */
  #renew(stale: Client | undefined): Promise<Client> {
    if (stale && stale === this.#client && this.#state === 'connected') {
      this.#client = undefined;
      this.#transport = undefined;
      this.#state = 'restarting';
      this.#retired.add(stale);
      if (!this.#running.has(stale)) this.#closeRetired(stale);
    }
    return this.connect();
  }

  #closeRetired(client: Client): void {
    this.#retired.delete(client);
    // Its onclose no longer matches the current transport: closing only stops its streams.
    void client.close().catch(() => {});
  }

  /**
   * Lists the tools again after `notifications/tools/list_changed`. A change during a listing lists
   * once more; a new session lists its tools itself.
   */
  #relist(): void {
    if (this.#listing) {
      this.#listAgain = true;
      return;
    }
    const timeout = this.config.connectTimeoutMs ?? 15_000;
    this.#listing = (async () => {
      do {
        this.#listAgain = false;
        const client = this.#client;
        if (!client) return;
        const listed = await client.listTools(undefined, { timeout, cacheMode: 'refresh' });
        if (client !== this.#client) continue;
        this.#tools = listed.tools;
        this.#events.onTools?.(this.#tools);
      } while (this.#listAgain);
    })()
      .catch((error: unknown) => {
        if (this.#state !== 'connected') return;
        const reason = error instanceof Error ? error.message : String(error);
        this.#events.onError?.(
          new Error(`MCP server '${this.name}' changed its tools, but listing them failed: ${reason}`),
        );
      })
      .finally(() => {
        this.#listing = undefined;
      });
  }

  #onClose(transport: Transport): void {
    if (transport !== this.#transport || this.#state === 'closed') return;
    this.#failure ??= this.config.url
      ? `MCP server '${this.name}' closed the connection`
      : `MCP server '${this.name}' exited${this.#stderrTail(transport)}`;
    this.#client = undefined;
    this.#transport = undefined;
    this.#state = 'restarting';
    void transport.close().catch(() => {});
    this.#events.onError?.(new Error(this.#failure));
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#restartTimer || this.#state === 'closed') return;
    const wait = this.#restartDelay;
    this.#restartDelay = Math.min(wait * 2, this.config.maxRestartDelayMs ?? 30_000);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#state === 'restarting') this.connect().catch(() => {});
    }, wait);
    this.#restartTimer.unref?.();
  }

  #stderrTail(transport: Transport): string {
    const tail =
      transport instanceof ProcessTransport ? transport.stderr.trim().split('\n').slice(-3).join(' | ') : '';
    return tail ? ` (stderr: ${tail.slice(-500)})` : '';
  }

  #describe(error: unknown, transport: Transport): string {
    const message = error instanceof Error ? error.message : String(error);
    return `${message}${this.#stderrTail(transport)}`;
  }

  /**
   * Calls a tool. Waits for a server that is starting; throws (for the loop to report) when the
   * server cannot be reached, crashes or answers junk during the call, or the time runs out. A call
   * an HTTP server refused because it no longer knows the session (it restarted) was not run: it is
   * sent again, once, in a new session. A call whose connection closed before an answer (a kept-alive
   * connection to a server that restarted) is sent again once if the tool is read-only or idempotent.
   */
  async callTool(
    name: string,
    input: Record<string, unknown>,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<CallToolResult> {
    const timeoutMs =
      options.timeoutMs ?? this.config.toolTimeouts?.[name] ?? this.config.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    // A crashed process is started again on the backoff, not by every call; an HTTP server is cheap
    // to try, and may be back before the next scheduled attempt.
    if (this.#state === 'restarting' && !this.#connecting && !this.config.url) {
      throw new Error(`${this.#failure ?? `MCP server '${this.name}' is down`}; it is being restarted.`);
    }
    let renewed = false;
    let resent = false;
    for (;;) {
      const client = await this.connect();
      const transport = this.#transport;
      try {
        return await this.#call(client, name, input, Math.max(1, deadline - Date.now()), options.signal);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (!renewed && isSessionEnded(error, transport)) {
          renewed = true;
          await this.#renew(client);
          continue;
        }
        if (!resent && isConnectionDropped(error) && this.#isRepeatable(name)) {
          resent = true;
          continue;
        }
        throw this.#explain(error);
      }
    }
  }

  /** A tool the server says only reads, or does the same when run twice, may be sent again. */
  #isRepeatable(name: string): boolean {
    const annotations = this.#tools.find((tool) => tool.name === name)?.annotations;
    return annotations?.readOnlyHint === true || annotations?.idempotentHint === true;
  }

  async #call(
    client: Client,
    name: string,
    input: Record<string, unknown>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<CallToolResult> {
    this.#running.set(client, (this.#running.get(client) ?? 0) + 1);
    try {
      // `signal` aborting makes the SDK send `notifications/cancelled` (2025 revisions) or close the
      // call's request stream (2026-07-28): the server stops the work, not only we the waiting.
      const result = (await client.callTool(
        { name, arguments: input },
        { timeout: timeoutMs, maxTotalTimeout: timeoutMs, ...(signal ? { signal } : {}) },
      )) as CallToolResult;
      // A server that answers is healthy again: the next crash restarts quickly.
      this.#restartDelay = this.config.restartDelayMs ?? 500;
      return result;
    } finally {
      const left = (this.#running.get(client) ?? 1) - 1;
      if (left > 0) this.#running.set(client, left);
      else {
        this.#running.delete(client);
        if (this.#retired.has(client)) this.#closeRetired(client);
      }
    }
  }

  /** The error a failed call reports: why the server failed, if known, rather than the symptom. */
  #explain(error: unknown): unknown {
    if (this.#failure) return new Error(this.#failure);
    const unreachable = describeFetchFailure(error);
    if (unreachable) return new Error(`MCP server '${this.name}' could not be reached: ${unreachable}`);
    return error;
  }

  /** Stops the server (its whole process group) and any pending restart. */
  async close(): Promise<void> {
    this.#state = 'closed';
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    const retired = [...this.#retired];
    this.#retired.clear();
    await Promise.all([client, ...retired].map((each) => each?.close().catch(() => {})));
    await transport?.close().catch(() => {});
  }
}
