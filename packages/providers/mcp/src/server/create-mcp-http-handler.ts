import { FusionError } from '@fusionkit/core';
import { RequestGuard, readJsonBody } from '@fusionkit/core/internal';
import { type AuthInfo, createMcpHandler, isJsonContentType } from '@modelcontextprotocol/server';
import { createMcpServerFactory, fusionOf, type McpEndpointFactory } from './create-mcp-server.js';
import { jsonRpcError, siteCheck } from './guard-request.js';
import { LegacyCancellation } from './legacy-cancellation.js';
import type { McpFusion } from './mcp-fusion.js';
import type { McpEndpointOptions, McpHttpOptions } from './mcp-server-options.js';
import { McpSessions } from './mcp-sessions.js';

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The Streamable HTTP endpoint: a Fetch handler, and `close` to abort the calls it runs. */
export interface McpHttpEndpoint {
  fetch(request: Request): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The orchestrator's MCP server as a Fetch handler (Streamable HTTP; the 2026-07-28 revision and,
 * statelessly, the 2025 ones, on one URL). It checks `Host` and `Origin` with the orchestrator's
 * cross-site guard (403), the media type (415) and the body size (413) before the SDK reads the
 * message. 2025-era clients get an `Mcp-Session-Id` so that their `notifications/cancelled` finds the
 * call it names (`LegacyCancellation`). Authentication is the orchestrator's: mounted through
 * `fusion.handle` (see {@link mcpPlugin}), `apiKeys` apply to it.
 */
export function createMcpHttpHandler(
  options: McpHttpOptions,
  fallback?: () => McpFusion | undefined,
): McpHttpEndpoint {
  return createMcpEndpoints(options, fallback).standalone;
}

/**
 * The endpoint twice over one SDK handler: `standalone` checks `Host` and `Origin` itself (for use
 * outside `handle`); `mounted` is the route `handle` serves, whose guard has already run with the
 * orchestrator's `security`, so it checks only the lists `options` gives, to narrow `/mcp` further.
 */
export function createMcpEndpoints(
  options: McpHttpOptions,
  fallback?: () => McpFusion | undefined,
): McpEndpoints {
  return createMcpEndpoint(createMcpServerFactory(options, fallback), {
    ...options,
    maxBodyBytes: () =>
      options.maxBodyBytes ?? fusionOf(options, fallback?.()).maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
}

/** An endpoint's two faces (see {@link createMcpEndpoint}). */
export interface McpEndpoints {
  /** Checks `Host` and `Origin` itself, with the defaults of the orchestrator's guard. */
  standalone: McpHttpEndpoint;
  /**
   * For a route of `fusion.handle`, whose guard has run: only the lists given narrow it further.
   * `authInfo` reaches the tools (`ctx.http.authInfo`): its `clientId` is the request's API key id,
   * and a session is used only with the key that opened it.
   */
  mounted: (request: Request, authInfo?: AuthInfo) => Promise<Response>;
  /** Tells the subscribed clients of both eras that lists or resources changed. */
  notify: McpChangeNotifier;
  /** The stateful sessions, when `sessions` is on. */
  sessions?: McpSessions;
}

/** Change notifications for the clients of an endpoint. */
export interface McpChangeNotifier {
  toolsChanged(): void;
  promptsChanged(): void;
  resourcesChanged(): void;
  resourceUpdated(uri: string): void;
}

/**
 * The Streamable HTTP endpoint over any MCP server factory, the building block of the orchestrator's
 * `/mcp` (and of the test suite's conformance server): the cross-site guard (403), the media type
 * (415), the body size (413) and a JSON-RPC parse error (400) are answered before the SDK reads the
 * message; 2026-07-28 traffic is served statelessly by the SDK's `createMcpHandler`; 2025-era traffic
 * statelessly too (with `notifications/cancelled` paired to its call by `Mcp-Session-Id`), or, with
 * `sessions`, by one server instance per session.
 */
export function createMcpEndpoint(
  factory: McpEndpointFactory,
  options: Omit<McpEndpointOptions, 'maxBodyBytes'> & { maxBodyBytes?: number | (() => number) },
): McpEndpoints {
  const cancellation = new LegacyCancellation();
  const sdk = createMcpHandler(
    (context) => factory(context),
    options.onError ? { onerror: options.onError } : {},
  );
  const sessions = options.sessions
    ? new McpSessions(factory, options.sessions === true ? {} : options.sessions, options.onError)
    : undefined;
  const check = siteCheck(
    new RequestGuard({
      ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
      ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    }),
  );
  // Mounted, the orchestrator's guard has run: only the lists given here narrow `/mcp` further, and
  // a list not given must not fall back to the defaults (which could be narrower than `security`).
  const narrowing =
    options.allowedHosts || options.allowedOrigins
      ? siteCheck(
          new RequestGuard({
            allowedHosts: options.allowedHosts ?? ['*'],
            allowedOrigins: options.allowedOrigins ?? ['*'],
          }),
        )
      : undefined;
  const limitOf = () =>
    (typeof options.maxBodyBytes === 'function' ? options.maxBodyBytes() : options.maxBodyBytes) ??
    DEFAULT_MAX_BODY_BYTES;
  const serve = async (request: Request, authInfo?: AuthInfo): Promise<Response> => {
    const auth = authInfo ? { authInfo } : {};
    if (request.method !== 'POST') {
      if (sessions?.claims(request, undefined)) return sessions.handle(request, undefined, authInfo);
      return sdk.fetch(request, auth);
    }
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return jsonRpcError(415, -32000, 'Unsupported Media Type: send Content-Type: application/json.');
    }
    const limit = limitOf();
    let parsedBody: unknown;
    try {
      parsedBody = await readJsonBody(request, limit);
    } catch (error) {
      if (FusionError.isInstance(error) && error.status === 413) {
        return jsonRpcError(413, -32000, `Payload Too Large: the body is larger than ${limit} bytes.`, {
          connection: 'close',
        });
      }
      return jsonRpcError(400, -32700, `Parse error: ${(error as Error).message}`);
    }
    if (sessions?.claims(request, parsedBody)) return sessions.handle(request, parsedBody, authInfo);
    return cancellation.serve(request, parsedBody, (forwarded) =>
      sdk.fetch(forwarded, { parsedBody, ...auth }),
    );
  };
  const close = async () => {
    await Promise.all([sdk.close(), sessions?.close()]);
  };
  const notify: McpChangeNotifier = {
    toolsChanged: () => {
      sdk.notify.toolsChanged();
      sessions?.broadcast((server) => server.sendToolListChanged());
    },
    promptsChanged: () => {
      sdk.notify.promptsChanged();
      sessions?.broadcast((server) => server.sendPromptListChanged());
    },
    resourcesChanged: () => {
      sdk.notify.resourcesChanged();
      sessions?.broadcast((server) => server.sendResourceListChanged());
    },
    resourceUpdated: (uri) => {
      sdk.notify.resourceUpdated(uri);
      sessions?.resourceUpdated(uri);
    },
  };
  return {
    standalone: { fetch: async (request) => check(request) ?? serve(request), close },
    mounted: async (request, authInfo) => narrowing?.(request) ?? serve(request, authInfo),
    notify,
    ...(sessions ? { sessions } : {}),
  };
}
