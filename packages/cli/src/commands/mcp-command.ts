import type { PluginV1 } from '@fusionkit/core';
import { type RagPluginLike, serveMcpStdio } from '@fusionkit/mcp';
import { resolveConfig } from '../config/resolve-config.js';
import type { CliContext } from './cli-context.js';
import { createFusionFromConfig } from './create-fusion-from-config.js';

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
  // MCP goes over stdio here; the HTTP endpoint plugin is not mounted.
  const fusion = createFusionFromConfig({ ...config, mcp: false });
  await fusion.ready;
  const rag = ragPluginOf(config.plugins);
  const server = serveMcpStdio({
    fusion,
    ...(rag ? { rag } : {}),
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
