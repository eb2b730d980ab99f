import { FusionError } from '@fusionkit/core';
import { RequestGuard } from '@fusionkit/core/internal';

/** A JSON-RPC error answer with an HTTP status, as MCP clients expect from the endpoint. */
export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * The orchestrator's cross-site guard (`RequestGuard` of `@fusionkit/core`, the one `fusion.handle`
 * runs on every route) answering in JSON-RPC: a 403 error, or `undefined` to go on.
 */
export function siteCheck(guard: RequestGuard): (request: Request) => Response | undefined {
  return (request) => {
    try {
      guard.checkSite(request);
      return undefined;
    } catch (error) {
      if (!FusionError.isInstance(error)) throw error;
      return jsonRpcError(error.status, -32000, `Forbidden: ${error.message}`);
    }
  };
}

/**
 * DNS-rebinding and cross-site protection, the orchestrator's rules: 403 unless the `Host` names
 * localhost, an IP address or one of `allowedHosts` (any port), and a browser's `Origin`, when sent,
 * is the server's own or one of `allowedOrigins` (a bare host name: any scheme and port).
 */
export function guardRequest(
  request: Request,
  allowedHosts?: readonly string[],
  allowedOrigins?: readonly string[],
): Response | undefined {
  const guard = new RequestGuard({
    ...(allowedHosts ? { allowedHosts: [...allowedHosts] } : {}),
    ...(allowedOrigins ? { allowedOrigins: [...allowedOrigins] } : {}),
  });
  return siteCheck(guard)(request);
}
