import { FusionError } from '@fusionkit/core';
import { RequestGuard, readJsonBody } from '@fusionkit/core/internal';
import { createMcpHandler, isJsonContentType } from '@modelcontextprotocol/server';
import { createMcpServerFactory, fusionOf } from './create-mcp-server.js';
import { jsonRpcError, siteCheck } from './guard-request.js';
import { LegacyCancellation } from './legacy-cancellation.js';
import type { McpFusion } from './mcp-fusion.js';
import type { McpHttpOptions } from './mcp-server-options.js';

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
): { standalone: McpHttpEndpoint; mounted: (request: Request) => Promise<Response> } {
  const cancellation = new LegacyCancellation();
  const sdk = createMcpHandler(
    createMcpServerFactory(options, fallback),
    options.onError ? { onerror: options.onError } : {},
  );
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
  const serve = async (request: Request): Promise<Response> => {
    if (request.method !== 'POST') return sdk.fetch(request);
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return jsonRpcError(415, -32000, 'Unsupported Media Type: send Content-Type: application/json.');
    }
    const limit =
      options.maxBodyBytes ?? fusionOf(options, fallback?.()).maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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
    return cancellation.serve(request, parsedBody, (forwarded) => sdk.fetch(forwarded, { parsedBody }));
  };
  const close = () => sdk.close();
  return {
    standalone: { fetch: async (request) => check(request) ?? serve(request), close },
    mounted: async (request) => narrowing?.(request) ?? serve(request),
  };
}
