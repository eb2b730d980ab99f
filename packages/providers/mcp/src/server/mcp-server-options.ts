import type { BridgedServersLike } from './bridged-servers.js';
import type { JobsLike, McpFusion, RagPluginLike, RagStoreLike } from './mcp-fusion.js';
import type { McpSessionOptions } from './mcp-sessions.js';

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
  /**
   * External MCP servers to re-serve next to the orchestrator's own tools: their tools and prompts
   * as `server__name`, their resources as `server+uri`, calls routed to the server that owns them.
   * Give the tool loop's `mcpToolsPlugin`: its `include`/`exclude` and `allowDestructive` apply here
   * too, and a server that is down leaves the lists until it is back.
   * @example const tools = mcpToolsPlugin({ servers }); mcpPlugin({ fusion: () => fusion, servers: tools })
   */
  servers?: BridgedServersLike;
  /** Name the server gives itself to clients. @default 'fusion' */
  name?: string;
  /** @default the package version */
  version?: string;
  /** `chat` sends a progress notification every this many streamed chunks (and at the first). @default 8 */
  progressEveryChunks?: number;
}

/** Options of the Streamable HTTP endpoint (`mcpPlugin`, `createMcpHttpHandler`). */
export interface McpHttpOptions extends McpServerOptions, McpEndpointOptions {
  /** Path of the endpoint under the orchestrator's `handle`. @default '/mcp' */
  path?: string;
}

/** Options of a Streamable HTTP endpoint over any MCP server factory ({@link createMcpEndpoint}). */
export interface McpEndpointOptions {
  /**
   * Host names the `Host` header may name (any port), besides localhost and IP addresses; other hosts
   * get 403 (DNS rebinding). Through `fusion.handle` (`mcpPlugin`) the orchestrator's
   * `security.allowedHosts` already applies to every route, `/mcp` included: set the names there; a
   * list here narrows `/mcp` further. Outside `handle` (`createMcpHttpHandler`), this is the list.
   * @default [] (localhost, *.localhost and IP addresses)
   */
  allowedHosts?: string[];
  /**
   * Browser origins allowed besides the server's own (`https://app.example.com`, or a bare host name
   * for any scheme and port); other origins, `null` included, get 403, and requests without
   * `Origin` (non-browser clients) pass. Through `fusion.handle` the orchestrator's
   * `security.allowedOrigins` applies first, as for `allowedHosts`.
   * @default [] (same-origin only)
   */
  allowedOrigins?: string[];
  /** Told of errors outside any call (a broken message, a failed write); reporting only. */
  onError?: (error: Error) => void;
  /** Largest request body, bytes; larger bodies get 413. @default the orchestrator's `maxBodyBytes` (4 MiB) */
  maxBodyBytes?: number;
  /**
   * The stateful mode for 2025-era clients: `initialize` opens a session (`Mcp-Session-Id`) kept by
   * one server instance, so that logging levels, resource subscriptions, notifications, cancellation
   * and server-to-client requests (sampling, elicitation) work over HTTP; `GET` opens the session's
   * resumable notification stream (`Last-Event-ID`), `DELETE` ends it, an unknown session gets 404.
   * 2026-07-28 clients are served statelessly either way.
   * @default false (stateless)
   */
  sessions?: boolean | McpSessionOptions;
}
