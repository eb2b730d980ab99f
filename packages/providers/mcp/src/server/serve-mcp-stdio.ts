import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { createMcpServerFactory } from './create-mcp-server.js';
import type { McpServerOptions } from './mcp-server-options.js';

/** Options of {@link serveMcpStdio}. */
export interface McpStdioOptions extends McpServerOptions {
  /** @default process.stdin */
  stdin?: Readable;
  /** Only MCP messages may be written here. @default process.stdout */
  stdout?: Writable;
  /** Told of errors outside any call (a broken message); reporting only. */
  onError?: (error: Error) => void;
}

/** A running stdio server. */
export interface McpStdioServer {
  /** Resolves when the client closes its end (stdin ends) or `close` is called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the orchestrator as an MCP server over stdio (what `fusion mcp` runs): one connection, the
 * era chosen by the client's first message. `notifications/cancelled` aborts the call it names.
 */
export function serveMcpStdio(options: McpStdioOptions): McpStdioServer {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  stdin.once('end', () => markClosed());
  stdin.once('close', () => markClosed());
  const handle = serveStdio(createMcpServerFactory(options, undefined, true), {
    transport: new StdioServerTransport(stdin, stdout),
    ...(options.onError ? { onerror: options.onError } : {}),
  });
  return {
    closed,
    async close() {
      await handle.close();
      markClosed();
    },
  };
}
