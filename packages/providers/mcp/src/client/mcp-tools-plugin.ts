import type { PluginApi, PluginV1 } from '@fusionkit/core';
import type { Tool } from '@modelcontextprotocol/client';
import { bridgeTool } from './bridge-tool.js';
import { McpConnection } from './mcp-connection.js';
import type { McpServerConfig } from './mcp-server-config.js';

/** Options of {@link mcpToolsPlugin}. */
export interface McpToolsPluginOptions {
  /** The servers, by the name that prefixes their tools (`name__tool`). */
  servers: Record<string, McpServerConfig>;
  /** Told when a server fails to start, crashes or writes junk. @default console.error */
  onError?: (error: Error) => void;
}

/** The plugin, with its connections (for health and tests). */
export interface McpToolsPlugin extends PluginV1 {
  readonly connections: ReadonlyMap<string, McpConnection>;
}

const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

/**
 * Bridges the tools of external MCP servers (stdio commands or Streamable HTTP URLs) into the
 * orchestrator as tools named `server__tool`. A chat request names them in `fusion_tools` to have the
 * orchestrator run them in its tool loop. Setup waits for every server's first start (a server that
 * fails is retried in the background and its tools join when it is up); teardown stops them all.
 *
 * @example
 * createFusion({
 *   providers: [lab],
 *   plugins: [mcpToolsPlugin({ servers: { fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', './docs'] } } })],
 * });
 * // POST /v1/chat/completions { model: 'lab/qwen3-4b', messages, fusion_tools: ['fs__*'] }
 */
export function mcpToolsPlugin(options: McpToolsPluginOptions): McpToolsPlugin {
  const connections = new Map<string, McpConnection>();
  const onError = options.onError ?? ((error: Error) => console.error(`[fusion] ${error.message}`));
  const registered = new Map<string, Map<string, () => void>>();

  const sync = (api: PluginApi, connection: McpConnection, tools: Tool[]) => {
    const current = registered.get(connection.name) ?? new Map<string, () => void>();
    registered.set(connection.name, current);
    const { include, exclude } = connection.config;
    const wanted = tools.filter(
      (tool) => (!include || include.includes(tool.name)) && !exclude?.includes(tool.name),
    );
    const names = new Set<string>();
    for (const tool of wanted) {
      const bridged = bridgeTool(connection, tool);
      names.add(bridged.name);
      current.get(bridged.name)?.();
      try {
        current.set(bridged.name, api.registerTool(bridged));
      } catch (error) {
        onError(error as Error);
      }
    }
    for (const [name, unregister] of current) {
      if (names.has(name)) continue;
      unregister();
      current.delete(name);
    }
  };

  // The connections exist from the start (an endpoint re-serving them can hold them before setup);
  // setup starts them.
  let current: PluginApi | undefined;
  for (const [name, config] of Object.entries(options.servers)) {
    if (!SERVER_NAME.test(name)) {
      throw new TypeError(
        `MCP server name '${name}' must be 1-32 letters, digits or dashes (it prefixes its tools as ${name}__tool).`,
      );
    }
    const connection: McpConnection = new McpConnection(name, config, {
      onTools: (tools) => {
        if (current) sync(current, connection, tools);
      },
      onError,
    });
    connections.set(name, connection);
  }

  return {
    specificationVersion: 'v1',
    name: 'mcp-tools',
    connections,
    async setup(api) {
      current = api;
      await Promise.all([...connections.values()].map((connection) => connection.connect().catch(() => {})));
    },
    async teardown() {
      current = undefined;
      await Promise.all([...connections.values()].map((connection) => connection.close()));
      for (const tools of registered.values()) for (const unregister of tools.values()) unregister();
      registered.clear();
    },
  };
}
