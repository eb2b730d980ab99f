import type { ServerContext } from '@modelcontextprotocol/server';

/** What every tool of one server instance shares. */
export interface ToolContext {
  /**
   * The signal of a call: aborted by `notifications/cancelled`, or when the HTTP request that carries
   * the call is closed.
   */
  signal(context: ServerContext): AbortSignal;
  progressEveryChunks: number;
}
