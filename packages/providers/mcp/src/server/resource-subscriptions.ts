import type { McpServer, Server } from '@modelcontextprotocol/server';

const subscriptions = new WeakMap<Server, Set<string>>();

/** The low-level server of an `McpServer` (or the server itself). */
export function lowLevelServer(server: McpServer | Server): Server {
  return 'server' in server ? server.server : server;
}

/**
 * Declares `resources.subscribe` and answers `resources/subscribe` and `resources/unsubscribe` (2025
 * revisions) for one server instance, which, served statefully, is one client's session: the URIs it
 * subscribed are kept with the instance, for {@link subscribedUris}. Call before `connect`.
 */
export function enableResourceSubscriptions(server: McpServer | Server): void {
  const low = lowLevelServer(server);
  const uris = new Set<string>();
  subscriptions.set(low, uris);
  low.registerCapabilities({ resources: { subscribe: true } });
  low.setRequestHandler('resources/subscribe', async (request) => {
    uris.add(request.params.uri);
    return {};
  });
  low.setRequestHandler('resources/unsubscribe', async (request) => {
    uris.delete(request.params.uri);
    return {};
  });
}

/** The URIs a server instance's client subscribed to (empty when subscriptions are not enabled). */
export function subscribedUris(server: McpServer | Server): ReadonlySet<string> {
  return subscriptions.get(lowLevelServer(server)) ?? new Set();
}
