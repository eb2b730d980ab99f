import { FusionError } from '@fusionkit/core';
import { readJsonBody } from '@fusionkit/core/internal';
import { createMcpHandler, isJsonContentType } from '@modelcontextprotocol/server';
import { createMcpServerFactory, fusionOf } from './create-mcp-server.js';
import { guardRequest, jsonRpcError } from './guard-request.js';
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
 * statelessly, the 2025 ones, on one URL). It checks `Host` and `Origin` (403), the media type (415)
 * and the body size (413) before the SDK reads the message. 2025-era clients get an `Mcp-Session-Id`
 * so that their `notifications/cancelled` finds the call it names ({@link LegacyCancellation}).
 * Authentication is the orchestrator's: mounted through `fusion.handle` (see {@link mcpPlugin}),
 * `apiKeys` apply to it.
 */
export function createMcpHttpHandler(
  options: McpHttpOptions,
  fallback?: () => McpFusion | undefined,
): McpHttpEndpoint {
  const cancellation = new LegacyCancellation();
  const sdk = createMcpHandler(
    createMcpServerFactory(options, fallback),
    options.onError ? { onerror: options.onError } : {},
  );
  return {
    async fetch(request) {
      const rejected = guardRequest(request, options.allowedHosts, options.allowedOrigins);
      if (rejected) return rejected;
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
    },
    close: () => sdk.close(),
  };
}
