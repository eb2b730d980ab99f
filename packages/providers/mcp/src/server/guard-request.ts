import {
  localhostAllowedHostnames,
  validateHostHeader,
  validateOriginHeader,
} from '@modelcontextprotocol/server';

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

/** The host a request names: its `Host` header, else the host of its URL (HTTP/2 has no `Host`). */
function hostOf(request: Request): string | null {
  const header = request.headers.get('host');
  if (header) return header;
  try {
    return new URL(request.url).host || null;
  } catch {
    return null;
  }
}

/**
 * DNS-rebinding protection: 403 unless the `Host` names an allowed host and a browser's `Origin`
 * (when sent) names an allowed one. Ports are not compared.
 */
export function guardRequest(
  request: Request,
  allowedHosts: readonly string[] = localhostAllowedHostnames(),
  allowedOrigins: readonly string[] = localhostAllowedHostnames(),
): Response | undefined {
  const host = validateHostHeader(hostOf(request), [...allowedHosts]);
  if (!host.ok) return jsonRpcError(403, -32000, `Forbidden: ${host.message}.`);
  const origin = validateOriginHeader(request.headers.get('origin'), [...allowedOrigins]);
  if (!origin.ok) return jsonRpcError(403, -32000, `Forbidden: ${origin.message}.`);
  return undefined;
}
