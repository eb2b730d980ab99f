import {
  type CallToolResult,
  Client,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
  type Tool,
  type Transport,
} from '@modelcontextprotocol/client';
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

/** What a server offers besides tools, listed at every (re)connect and after its list_changed. */
export interface McpServerLists {
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

/** Options of one request through a connection. */
export interface McpRequestOptions {
  signal?: AbortSignal;
  /** @default the server's `timeoutMs` (30000) */
  timeoutMs?: number;
}

/** The state of a connection, for health and errors. */
export type McpConnectionState = 'idle' | 'connecting' | 'connected' | 'restarting' | 'closed';

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

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
  #healthTimer: ReturnType<typeof setInterval> | undefined;
  #tools: Tool[] = [];
  #lists: McpServerLists = { resources: [], resourceTemplates: [], prompts: [] };
  readonly #listeners = new Set<() => void>();
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

  /** The resources, resource templates and prompts the server listed at the last connect. */
  get lists(): Readonly<McpServerLists> {
    return this.#lists;
  }

  /** Why the server is down, while it is. */
  get failure(): string | undefined {
    return this.#state === 'connected' ? undefined : this.#failure;
  }

  /**
   * Calls `listener` whenever the state or one of the lists changes (for health, and for an
   * endpoint that re-serves the server). Returns its unsubscribe.
   */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {}
    }
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
    const onListChanged = () => {
      // While connecting, the listing under way may predate the change: list again once connected.
      if (client === this.#client) this.#relist();
      else this.#listAgain = true;
    };
    client.setNotificationHandler('notifications/tools/list_changed', onListChanged);
    client.setNotificationHandler('notifications/resources/list_changed', onListChanged);
    client.setNotificationHandler('notifications/prompts/list_changed', onListChanged);
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
      this.#lists = await this.#listOthers(client, timeoutMs, 'use');
    } catch (error) {
      const reason = this.#describe(error, transport);
      await transport.close().catch(() => {});
      if (this.#state !== 'connecting') throw new Error(`MCP server '${this.name}' is closed.`);
      this.#state = 'restarting';
      this.#scheduleRestart();
      const failure = new Error(
        `MCP server '${this.name}' could not ${this.config.url ? 'be reached' : 'start'}: ${reason}`,
      );
      this.#failure = failure.message;
      this.#events.onError?.(failure);
      this.#changed();
      throw failure;
    }
    if (this.#state !== 'connecting') {
      await transport.close().catch(() => {});
      throw new Error(`MCP server '${this.name}' is closed.`);
    }
    this.#client = client;
    this.#transport = transport;
    this.#state = 'connected';
    this.#failure = undefined;
    this.#events.onTools?.(this.#tools);
    this.#changed();
    this.#checkHealth(client);
    if (this.#listAgain) this.#relist();
    return client;
  }

  /**
   * Pings the server every `healthIntervalMs`: an HTTP server that went away (or a stdio server
   * that hangs) is marked down, its tools leave the lists, and it is connected again on the
   * restart backoff. A server that forgot the session gets a new one.
   */
  #checkHealth(client: Client): void {
    clearInterval(this.#healthTimer);
    const every = this.config.healthIntervalMs ?? 30_000;
    if (every <= 0) return;
    const timeout = Math.min(this.config.connectTimeoutMs ?? 15_000, Math.max(every, 1000));
    let pinging = false;
    this.#healthTimer = setInterval(() => {
      if (client !== this.#client) {
        clearInterval(this.#healthTimer);
        return;
      }
      if (pinging) return;
      pinging = true;
      const transport = this.#transport;
      client
        .ping({ timeout })
        .catch((error: unknown) => {
          if (client !== this.#client) return;
          if (isSessionEnded(error, transport)) return void this.#renew(client).catch(() => {});
          const reason =
            describeFetchFailure(error) ?? (error instanceof Error ? error.message : String(error));
          this.#markDown(client, `MCP server '${this.name}' did not answer a ping: ${reason}`);
        })
        .finally(() => {
          pinging = false;
        });
    }, every);
    this.#healthTimer.unref?.();
  }

  /** The server stopped answering: drop its client, report it and connect again on the backoff. */
  #markDown(client: Client, reason: string): void {
    if (client !== this.#client || this.#state !== 'connected') return;
    clearInterval(this.#healthTimer);
    const transport = this.#transport;
    this.#failure = reason;
    this.#client = undefined;
    this.#transport = undefined;
    this.#state = 'restarting';
    void client.close().catch(() => {});
    void transport?.close().catch(() => {});
    this.#events.onError?.(new Error(reason));
    this.#changed();
    this.#scheduleRestart();
  }

  /**
   * Resources, templates and prompts, for servers that declare them. A server whose lists fail is
   * still used for its tools: its lists are empty.
   */
  async #listOthers(client: Client, timeout: number, cacheMode: 'use' | 'refresh'): Promise<McpServerLists> {
    const capabilities = client.getServerCapabilities() ?? {};
    const options = { timeout, cacheMode };
    const [resources, resourceTemplates, prompts] = await Promise.all(
      [
        capabilities.resources
          ? client.listResources(undefined, options).then((listed) => listed.resources)
          : [],
        capabilities.resources
          ? client.listResourceTemplates(undefined, options).then((listed) => listed.resourceTemplates)
          : [],
        capabilities.prompts ? client.listPrompts(undefined, options).then((listed) => listed.prompts) : [],
      ].map((listing) => Promise.resolve(listing).catch(() => [])),
    );
    return {
      resources: resources as Resource[],
      resourceTemplates: resourceTemplates as ResourceTemplate[],
      prompts: prompts as Prompt[],
    };
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
        const lists = await this.#listOthers(client, timeout, 'refresh');
        if (client !== this.#client) continue;
        this.#tools = listed.tools;
        this.#lists = lists;
        this.#events.onTools?.(this.#tools);
        this.#changed();
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
    this.#changed();
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
  callTool(
    name: string,
    input: Record<string, unknown>,
    options: McpRequestOptions = {},
  ): Promise<CallToolResult> {
    const timeoutMs = options.timeoutMs ?? this.config.toolTimeouts?.[name] ?? this.config.timeoutMs;
    return this.#request(
      (client, timeout) => this.#call(client, name, input, timeout, options.signal),
      { ...options, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
      this.#isRepeatable(name),
    );
  }

  /** Reads a resource of the server (by its own URI), with the same retries as a read-only call. */
  readResource(uri: string, options: McpRequestOptions = {}): Promise<ReadResourceResult> {
    return this.#request(
      (client, timeout) =>
        client.readResource(
          { uri },
          { timeout, maxTotalTimeout: timeout, cacheMode: 'bypass', ...signalOption(options.signal) },
        ),
      options,
      true,
    );
  }

  /** Gets a prompt of the server (by its own name), with the same retries as a read-only call. */
  getPrompt(
    name: string,
    args: Record<string, string> | undefined,
    options: McpRequestOptions = {},
  ): Promise<GetPromptResult> {
    return this.#request(
      (client, timeout) =>
        client.getPrompt(
          { name, ...(args ? { arguments: args } : {}) },
          { timeout, maxTotalTimeout: timeout, ...signalOption(options.signal) },
        ),
      options,
      true,
    );
  }

  /**
   * Runs one request on the current client: waits for a server that is starting; a request the
   * server refused because it forgot the session is sent again once in a new session, and one whose
   * connection dropped is sent again once when `repeatable`.
   */
  async #request<T>(
    run: (client: Client, timeoutMs: number) => Promise<T>,
    options: McpRequestOptions,
    repeatable: boolean,
  ): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? this.config.timeoutMs ?? 30_000);
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
        return await run(client, Math.max(1, deadline - Date.now()));
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (!renewed && isSessionEnded(error, transport)) {
          renewed = true;
          await this.#renew(client);
          continue;
        }
        if (!resent && isConnectionDropped(error) && repeatable) {
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
    clearInterval(this.#healthTimer);
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
