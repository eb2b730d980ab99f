import {
  type CallToolResult,
  Client,
  StreamableHTTPClientTransport,
  type Tool,
  type Transport,
} from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import type { McpServerConfig } from './mcp-server-config.js';
import { InvalidServerOutputError, ProcessTransport } from './process-transport.js';

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.1.0';

/** What a connection tells its owner. */
export interface McpConnectionEvents {
  /** The server's tools, after every (re)connect. */
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
 * One external MCP server: started (stdio) or reached (HTTP), its tools listed, calls made with a
 * timeout of their own. A server that crashes, or writes to stdout what is not an MCP message, fails
 * the calls it was running with an error that says so, and is started again after a delay that
 * doubles with every failed start (up to `maxRestartDelayMs`).
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
    const transport = this.#createTransport();
    const client = new Client({ name: 'fusion', version: VERSION });
    const timeoutMs = this.config.connectTimeoutMs ?? 15_000;
    client.onerror = (error) => this.#onError(transport, error);
    client.onclose = () => this.#onClose(transport);
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
      const failure = new Error(`MCP server '${this.name}' could not start: ${reason}`);
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
    return client;
  }

  #createTransport(): Transport {
    if (this.config.url) {
      return new StreamableHTTPClientTransport(new URL(this.config.url), {
        ...(this.config.headers ? { requestInit: { headers: this.config.headers } } : {}),
      });
    }
    return new ProcessTransport({
      command: this.config.command!,
      ...(this.config.args ? { args: this.config.args } : {}),
      env: { ...getDefaultEnvironment(), ...this.config.env },
      ...(this.config.cwd ? { cwd: this.config.cwd } : {}),
    });
  }

  /** Junk on stdout means the server can no longer be trusted to answer: end it and start again. */
  #onError(transport: Transport, error: Error): void {
    if (!(error instanceof InvalidServerOutputError) || transport !== this.#transport) return;
    this.#failure = `MCP server '${this.name}' ${error.message}`;
    this.#events.onError?.(new Error(this.#failure));
    void this.#client?.close().catch(() => {});
  }

  #onClose(transport: Transport): void {
    if (transport !== this.#transport || this.#state === 'closed') return;
    this.#failure ??= `MCP server '${this.name}' exited${this.#stderrTail(transport)}`;
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
   * server cannot be reached, crashes or answers junk during the call, or the time runs out.
   */
  async callTool(
    name: string,
    input: Record<string, unknown>,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<CallToolResult> {
    const timeoutMs =
      options.timeoutMs ?? this.config.toolTimeouts?.[name] ?? this.config.timeoutMs ?? 30_000;
    if (this.#state === 'restarting' && !this.#connecting) {
      throw new Error(`${this.#failure ?? `MCP server '${this.name}' is down`}; it is being restarted.`);
    }
    const client = await this.connect();
    try {
      const result = (await client.callTool(
        { name, arguments: input },
        {
          timeout: timeoutMs,
          maxTotalTimeout: timeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      )) as CallToolResult;
      // A server that answers is healthy again: the next crash restarts quickly.
      this.#restartDelay = this.config.restartDelayMs ?? 500;
      return result;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (this.#failure) throw new Error(this.#failure);
      throw error;
    }
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
    await client?.close().catch(() => {});
    await transport?.close().catch(() => {});
  }
}
