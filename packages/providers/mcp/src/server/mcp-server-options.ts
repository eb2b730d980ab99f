import type { JobsLike, McpFusion, RagPluginLike, RagStoreLike } from './mcp-fusion.js';

/** Options of the orchestrator's MCP server, over any transport. */
export interface McpServerOptions {
  /**
   * The orchestrator. A function defers the lookup, for a plugin given to `createFusion` itself.
   * @example mcpPlugin({ fusion: () => fusion })
   */
  fusion?: McpFusion | (() => McpFusion | undefined);
  /**
   * The RAG plugin (or its store): enables `rag_search`, `rag_ingest` and the collection and
   * document resources. Read on every request, so a plugin set up later is found.
   * @example mcpPlugin({ fusion: () => fusion, rag })  // rag = ragPlugin({...})
   */
  rag?: RagPluginLike | RagStoreLike | (() => RagPluginLike | RagStoreLike | undefined);
  /** A job runner: enables `job_status`. @default the RAG plugin's `jobs` */
  jobs?: JobsLike;
  /** Name the server gives itself to clients. @default 'fusion' */
  name?: string;
  /** @default the package version */
  version?: string;
  /** `chat` sends a progress notification every this many streamed chunks (and at the first). @default 8 */
  progressEveryChunks?: number;
}

/** Options of the Streamable HTTP endpoint (`mcpPlugin`, `createMcpHttpHandler`). */
export interface McpHttpOptions extends McpServerOptions {
  /** Path of the endpoint under the orchestrator's `handle`. @default '/mcp' */
  path?: string;
  /**
   * Host names the `Host` header may name (any port), against DNS rebinding; other hosts get 403.
   * Add the names the server is reached by when it listens beyond loopback.
   * @default ['localhost', '127.0.0.1', '[::1]']
   */
  allowedHosts?: string[];
  /**
   * Host names a browser's `Origin` may name (any port); other origins get 403. Requests without
   * `Origin` (non-browser clients) pass.
   * @default ['localhost', '127.0.0.1', '[::1]']
   */
  allowedOrigins?: string[];
  /** Told of errors outside any call (a broken message, a failed write); reporting only. */
  onError?: (error: Error) => void;
  /** Largest request body, bytes; larger bodies get 413. @default the orchestrator's `maxBodyBytes` (4 MiB) */
  maxBodyBytes?: number;
}
