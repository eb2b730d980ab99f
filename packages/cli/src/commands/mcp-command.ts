import type { PluginV1 } from '@fusionkit/core';
import { mcpToolsPlugin, type RagPluginLike, serveMcpStdio } from '@fusionkit/mcp';
import { resolveConfig } from '../config/resolve-config.js';
import type { CliContext } from './cli-context.js';
import { bridgedServers, createFusionFromConfig } from './create-fusion-from-config.js';

/** The RAG plugin among the config's plugins, found by what it offers (its store). */
function ragPluginOf(plugins: readonly PluginV1[] | undefined): RagPluginLike | undefined {
  return plugins?.find((plugin): plugin is PluginV1 & RagPluginLike => 'store' in plugin);
}

/**
 * `fusion mcp`: the orchestrator as an MCP server on stdin/stdout, for MCP clients that start their
 * servers themselves (Claude Desktop, IDEs). stdout carries only MCP messages: logs go to stderr.
 * Ends when the client closes stdin, or on SIGTERM/SIGINT.
 */
export async function mcpCommand(context: CliContext, options: { config?: string }): Promise<void> {
  const config = await resolveConfig({
    cwd: context.cwd,
    env: context.env,
    ...(options.config ? { configPath: options.config } : {}),
  });
  // Anything a plugin prints must not corrupt the protocol on stdout.
  console.log = console.error;
  console.info = console.error;
  if (config.file) context.log(`config: ${config.file}`);
  // The config's mcpServers join the tool loop and, unless `mcp.servers: false`, are re-served here.
  const servers = bridgedServers(config.mcpServers);
  const tools =
    Object.keys(servers).length > 0
      ? mcpToolsPlugin({ servers, onError: (error) => context.log(`fusion mcp: ${error.message}`) })
      : undefined;
  // MCP goes over stdio here; the HTTP endpoint plugin is not mounted.
  const { mcpServers: _servers, ...rest } = config;
  const fusion = createFusionFromConfig({ ...rest, mcp: false }, tools ? { plugins: [tools] } : {});
  await fusion.ready;
  const rag = ragPluginOf(config.plugins);
  const reserve = tools && (config.mcp === false || config.mcp?.servers !== false);
  const server = serveMcpStdio({
    fusion,
    ...(rag ? { rag } : {}),
    ...(reserve ? { servers: tools } : {}),
    onError: (error) => context.log(`fusion mcp: ${error.message}`),
  });
  const models = await fusion.models();
  context.log(`fusion mcp: serving ${models.length} model${models.length === 1 ? '' : 's'} over stdio`);
  const stop = () => void server.close();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await server.closed;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await server.close().catch(() => {});
    await fusion.close({ timeoutMs: config.shutdownTimeoutMs ?? 10_000 });
  }
}
