import type { LoggingLevel, ServerContext } from '@modelcontextprotocol/server';

/** What every tool of one server instance shares. */
export interface ToolContext {
  /**
   * The signal of a call: aborted by `notifications/cancelled`, or when the HTTP request that carries
   * the call is closed.
   */
  signal(context: ServerContext): AbortSignal;
  progressEveryChunks: number;
}

/**
 * A log message about the call, as `notifications/message` from the `fusion` logger: sent only when
 * the client's level (`logging/setLevel` in a session, `_meta.logLevel` with 2026-07-28) lets it
 * through; never fails the call.
 */
export async function logCall(context: ServerContext, level: LoggingLevel, data: unknown): Promise<void> {
  try {
    await context.mcpReq.log(level, data, 'fusion');
  } catch {}
}
