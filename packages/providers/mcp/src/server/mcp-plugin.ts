import type { PluginV1, RouteHandler } from '@fusionkit/core';
import { type BridgedServersLike, bridgedServerStatus } from './bridged-servers.js';
import {
  createMcpEndpoints,
  type McpChangeNotifier,
  type McpHttpEndpoint,
} from './create-mcp-http-handler.js';
import { ADMIN_SCOPE } from './key-scoped-rag-store.js';
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
 * Tells subscribed clients when models come and go: the tools, prompts (one per pipeline) and the
 * `fusion://models` resource follow the models served. Changes within a tick are sent once.
 */
function notifyModelChanges(events: NonNullable<McpFusion['events']>, notify: McpChangeNotifier): () => void {
  const { changed, cancel } = debounced(() => {
    notify.toolsChanged();
    notify.promptsChanged();
    notify.resourcesChanged();
    notify.resourceUpdated('fusion://models');
  });
  const offs = [events.on('model:register', changed), events.on('model:unregister', changed)];
  return () => {
    cancel();
    for (const off of offs) off();
  };
}

/** Changes within a tick are sent once. */
function debounced(send: () => void): { changed: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    changed: () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        send();
      }, 10);
      timer.unref?.();
    },
    cancel: () => clearTimeout(timer),
  };
}

/**
 * Tells subscribed clients when a re-served server goes down, comes back or changes its lists.
 * Sessions follow the servers themselves (see `registerBridgedServers`); this reaches the others.
 */
function notifyBridgedChanges(servers: BridgedServersLike, notify: McpChangeNotifier): () => void {
  const { changed, cancel } = debounced(() => {
    notify.toolsChanged();
    notify.promptsChanged();
    notify.resourcesChanged();
  });
  const offs = [...servers.connections.values()].map((connection) => connection.subscribe(changed));
  return () => {
    cancel();
    for (const off of offs) off();
  };
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
  const { standalone: endpoint, mounted, notify } = createMcpEndpoints(options, () => fromApi);
  let unsubscribe: (() => void) | undefined;
  let unsubscribeServers: (() => void) | undefined;
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
      // The tools learn the request's API key by its id only (`clientId`), so that its calls count
      // against its limits (the key itself stays with `handle`); a session belongs to that key. An
      // admin key has the scope `admin` (it may write to collections made without a key).
      const handler: RouteHandler = (request, { apiKey }) =>
        mounted(
          request,
          apiKey
            ? { token: '', clientId: apiKey.id, scopes: apiKey.admin === true ? [ADMIN_SCOPE] : [] }
            : undefined,
        );
      const path = options.path ?? '/mcp';
      for (const method of ['POST', 'GET', 'DELETE']) api.route(method, path, handler);
      const { servers } = options;
      if (servers) {
        // The health of the re-served servers (behind the API keys, as every route but /health).
        // A failure's text may carry the server's paths or the tail of its stderr: for operators only
        // (no keys configured, or an admin key); other keys see the states.
        api.route('GET', '/api/mcp/servers', (_request, { apiKey }) => {
          const status = bridgedServerStatus(servers);
          const operator = apiKey === undefined || apiKey.admin === true;
          return Response.json({
            servers: operator ? status : status.map(({ error: _error, ...rest }) => rest),
          });
        });
        unsubscribeServers = notifyBridgedChanges(servers, notify);
      }
      let fusion: McpFusion | undefined = fromApi;
      try {
        // A deferred `() => fusion` given to `createFusion` itself is not readable yet during setup.
        fusion = (typeof options.fusion === 'function' ? options.fusion() : options.fusion) ?? fromApi;
      } catch {}
      unsubscribe = fusion?.events ? notifyModelChanges(fusion.events, notify) : undefined;
    },
    teardown: async () => {
      unsubscribe?.();
      unsubscribeServers?.();
      await endpoint.close();
    },
  };
}
