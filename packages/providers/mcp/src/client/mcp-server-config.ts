/** An external MCP server whose tools the orchestrator bridges. Give `command` (stdio) or `url`. */
export interface McpServerConfig {
  /** The program of a stdio server. @example 'npx' */
  command?: string;
  /** @example ['-y', '@modelcontextprotocol/server-filesystem', '/srv/docs'] */
  args?: string[];
  /** Added to the few variables a server inherits by default (PATH, HOME, …). */
  env?: Record<string, string>;
  cwd?: string;
  /** The Streamable HTTP endpoint of a remote server. @example 'https://tools.example.com/mcp' */
  url?: string;
  /** Sent with every HTTP request. @example { authorization: 'Bearer …' } */
  headers?: Record<string, string>;
  /** Time allowed to one tool call, ms (the SDK's own default is 60 s). @default 30000 */
  timeoutMs?: number;
  /** Per-tool overrides of `timeoutMs`, by the server's own tool name. */
  toolTimeouts?: Record<string, number>;
  /** Characters of a tool result the model reads; the rest is cut with a marker. @default 16000 */
  maxResultChars?: number;
  /**
   * Tools that may change or delete things (not `readOnlyHint`, not `destructiveHint: false`) which
   * the tool loop may still run: their names, or `true` for all. @default none
   */
  allowDestructive?: boolean | string[];
  /** Bridge only these tools (the server's names). @default all */
  include?: string[];
  /** Never bridge these tools. */
  exclude?: string[];
  /** Time allowed to start, connect and list tools, ms. @default 15000 */
  connectTimeoutMs?: number;
  /**
   * Wait before the first restart after a crash (or, for `url`, before reopening the notification
   * stream the server closed), ms; doubled after each failed try. @default 500
   */
  restartDelayMs?: number;
  /**
   * How often a connected server is pinged, ms: one that does not answer is marked down (its tools
   * leave the tool loop and `/mcp`) and connected again on the restart backoff. `0` turns it off.
   * @default 30000
   */
  healthIntervalMs?: number;
  /** Longest wait between restarts, ms. @default 30000 */
  maxRestartDelayMs?: number;
}
