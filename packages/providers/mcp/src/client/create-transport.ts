import { StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import type { McpServerConfig } from './mcp-server-config.js';
import { ProcessTransport } from './process-transport.js';

/** The transport to a server: Streamable HTTP for a `url`, else the server's process over stdio. */
export function createTransport(config: McpServerConfig): Transport {
  if (config.url) {
    return new StreamableHTTPClientTransport(new URL(config.url), {
      ...(config.headers ? { requestInit: { headers: config.headers } } : {}),
      // The stream of server notifications (list_changed) is reopened for as long as the server is
      // down, with the restart backoff; the SDK's default gives up after 2 tries, and tool changes
      // after that would go unheard.
      reconnectionOptions: {
        initialReconnectionDelay: config.restartDelayMs ?? 500,
        maxReconnectionDelay: config.maxRestartDelayMs ?? 30_000,
        reconnectionDelayGrowFactor: 2,
        maxRetries: Number.POSITIVE_INFINITY,
      },
    });
  }
  return new ProcessTransport({
    command: config.command!,
    ...(config.args ? { args: config.args } : {}),
    env: { ...getDefaultEnvironment(), ...config.env },
    ...(config.cwd ? { cwd: config.cwd } : {}),
  });
}
