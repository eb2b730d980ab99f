/**
 * `@fusionkit/mcp`: MCP in both directions for the Fusion Orchestrator.
 *
 * - Server: the orchestrator's models, fusion strategies, collections and jobs as MCP tools and
 *   resources, over Streamable HTTP at `/mcp` ({@link mcpPlugin}, served by every adapter) and over
 *   stdio ({@link serveMcpStdio}, what `fusion mcp` runs).
 * - Client: tools of external MCP servers bridged as `server__tool` ({@link mcpToolsPlugin}), run by
 *   the orchestrator's tool loop when a chat request names them in `fusion_tools`, and re-served on
 *   `/mcp` with their resources and prompts (`mcpPlugin({ servers })`).
 *
 * @example
 * const fusion = createFusion({ providers: [lab] });
 * await fusion.use(mcpPlugin({ fusion }));
 * await fusion.use(mcpToolsPlugin({ servers: { fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', './docs'] } } }));
 * @module
 */
export {
  type BridgedTool,
  type BridgedToolPolicy,
  bridgedToolName,
  bridgeTool,
  resultText,
  TOOL_POLICY,
} from './client/bridge-tool.js';
export {
  McpConnection,
  type McpConnectionEvents,
  type McpConnectionState,
  type McpRequestOptions,
  type McpServerLists,
} from './client/mcp-connection.js';
export type { McpServerConfig } from './client/mcp-server-config.js';
export {
  type McpToolsPlugin,
  type McpToolsPluginOptions,
  mcpToolsPlugin,
} from './client/mcp-tools-plugin.js';
export {
  InvalidServerOutputError,
  ProcessTransport,
  type ProcessTransportOptions,
} from './client/process-transport.js';
export {
  type BridgedServerStatus,
  type BridgedServersLike,
  bridgedServerStatus,
  namespacedUri,
  parseNamespacedUri,
} from './server/bridged-servers.js';
export {
  createMcpEndpoint,
  createMcpHttpHandler,
  type McpChangeNotifier,
  type McpEndpoints,
  type McpHttpEndpoint,
} from './server/create-mcp-http-handler.js';
export { buildMcpServer, createMcpServerFactory, type McpCapabilities } from './server/create-mcp-server.js';
export { guardRequest } from './server/guard-request.js';
export type {
  JobSnapshotLike,
  JobsLike,
  McpFusion,
  RagCollectionInfoLike,
  RagCollectionLike,
  RagDocumentLike,
  RagIngestProgressLike,
  RagPluginLike,
  RagSourceLike,
  RagStoreLike,
} from './server/mcp-fusion.js';
export { type McpPlugin, mcpPlugin } from './server/mcp-plugin.js';
export type { McpEndpointOptions, McpHttpOptions, McpServerOptions } from './server/mcp-server-options.js';
export { type McpSessionOptions, type McpSessionRecord, McpSessions } from './server/mcp-sessions.js';
export { MemoryEventStore } from './server/memory-event-store.js';
export { enableResourceSubscriptions, subscribedUris } from './server/resource-subscriptions.js';
export { type McpStdioOptions, type McpStdioServer, serveMcpStdio } from './server/serve-mcp-stdio.js';
