import type { PluginV1, RouteHandler } from '@fusionkit/core';
import { createMcpEndpoints, type McpHttpEndpoint } from './create-mcp-http-handler.js';
import type { McpFusion } from './mcp-fusion.js';
import type { McpHttpOptions } from './mcp-server-options.js';

/**
 * The MCP plugin, with the endpoint it serves (to call it outside `handle`, e.g. in tests; it then
 * checks `Host` and `Origin` itself, as `handle` does for the route).
 */
export interface McpPlugin extends PluginV1 {
  readonly endpoint: McpHttpEndpoint;
}

/** `api.fusion`, when the orchestrator's plugin API offers it (a proposed addition). */
function fusionOfApi(api: unknown): McpFusion | undefined {
  const candidate = (api as { fusion?: Partial<McpFusion> }).fusion;
  return typeof candidate?.chat === 'function' && typeof candidate.models === 'function'
    ? (candidate as McpFusion)
    : undefined;
}

/**
 * Serves the orchestrator as an MCP server at `/mcp` (Streamable HTTP) through `fusion.handle`, so
 * every adapter (node, Express, Next.js) serves it, behind the orchestrator's API keys and cross-site
 * guard (`createFusion({ security })`).
 *
 * @example
 * const fusion = createFusion({ providers: [lab], apiKeys: ['secret'] });
 * await fusion.use(mcpPlugin({ fusion }));
 * await serve(fusion); // MCP clients connect to http://127.0.0.1:8080/mcp
 * @example
 * // RAG tools and resources too, and a deferred lookup for createFusion({ plugins }):
 * const rag = ragPlugin({ fusion: () => fusion, roots: ['./docs'] });
 * const fusion = createFusion({ plugins: [rag, mcpPlugin({ fusion: () => fusion, rag })] });
 */
export function mcpPlugin(options: McpHttpOptions = {}): McpPlugin {
  let fromApi: McpFusion | undefined;
  const { standalone: endpoint, mounted } = createMcpEndpoints(options, () => fromApi);
  return {
    specificationVersion: 'v1',
    name: 'mcp',
    endpoint,
    setup(api) {
      fromApi = fusionOfApi(api);
      if (!options.fusion && !fromApi) {
        throw new TypeError('mcpPlugin needs the orchestrator: mcpPlugin({ fusion: () => fusion }).');
      }
      // `handle` has checked Host, Origin and the JSON media type with the orchestrator's `security`.
      const handler: RouteHandler = (request) => mounted(request);
      const path = options.path ?? '/mcp';
      for (const method of ['POST', 'GET', 'DELETE']) api.route(method, path, handler);
    },
    teardown: () => endpoint.close(),
  };
}
