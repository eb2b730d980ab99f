import { SdkHttpError, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';

/**
 * Whether an HTTP error says the server no longer knows the session the transport sent: 404 to a
 * request carrying `Mcp-Session-Id` (what the spec prescribes for an ended session, typically after a
 * restart), or the 400 "no valid session id" many servers built from the SDK's examples answer. The
 * request was not run, so starting a new session and sending it again is safe.
 */
export function isSessionEnded(error: unknown, transport: Transport | undefined): boolean {
  if (!(transport instanceof StreamableHTTPClientTransport) || transport.sessionId === undefined)
    return false;
  if (!SdkHttpError.isInstance(error)) return false;
  if (error.status === 404) return true;
  return error.status === 400 && /session/i.test(error.message);
}

const DROPPED = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);

/**
 * Whether a request failed because its connection closed before an answer: typically a kept-alive
 * connection to a server that has since restarted (`other side closed`). Whether the server ran the
 * request cannot be known, so only a call that is safe to repeat may be sent again.
 */
export function isConnectionDropped(error: unknown): boolean {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return false;
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && DROPPED.has(code);
}

/** Why a fetch failed, in words (`connect ECONNREFUSED 127.0.0.1:3000` rather than `fetch failed`). */
export function describeFetchFailure(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return undefined;
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.message;
}
