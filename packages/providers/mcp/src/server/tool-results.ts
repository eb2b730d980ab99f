import { FusionError } from '@fusionkit/core';
import type { CallToolResult } from '@modelcontextprotocol/server';

/** A successful tool result: the structured value, and the same as JSON text for older clients. */
export function structuredResult(value: Record<string, unknown>, text?: string): CallToolResult {
  return {
    content: [{ type: 'text', text: text ?? JSON.stringify(value) }],
    structuredContent: value,
  };
}

/**
 * A failed tool call as a tool result (`isError: true`), so the model or user reads what went wrong.
 * Messages of the orchestrator's errors are written for clients; anything else is not shown.
 */
export function errorResult(error: unknown): CallToolResult {
  const message = FusionError.isInstance(error)
    ? error.message
    : error instanceof Error && error.name === 'AbortError'
      ? 'The call was cancelled.'
      : 'The tool failed; the server log has the details.';
  return { content: [{ type: 'text', text: message }], isError: true };
}
