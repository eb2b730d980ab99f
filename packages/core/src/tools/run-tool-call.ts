import type { ToolCall } from '../spec/chat/chat-message.js';
import type { ToolResult, ToolV1 } from '../spec/tool/v1/tool-v1.js';
import { abortReason, linkedAbort } from '../util/abort.js';
import {
  DEFAULT_MAX_RESULT_CHARS,
  DEFAULT_TOOL_TIMEOUT_MS,
  mayRunTool,
  toolPolicyOf,
} from './tool-policy.js';

/** What one tool call gave back, as the model will read it. */
export interface ToolCallOutcome {
  /** The id of the model's call. */
  id: string;
  name: string;
  /** Text for the `tool` message: the result, or what went wrong. */
  content: string;
  isError: boolean;
  /** Whether the result was cut to the tool's budget. */
  truncated: boolean;
  durationMs: number;
}

/** Cuts text to `limit` characters and says so, so the model knows it did not see everything. */
export function truncateResult(text: string, limit: number): { text: string; truncated: boolean } {
  if (text.length <= limit) return { text, truncated: false };
  return {
    text: `${text.slice(0, limit)}\n[truncated: showing ${limit} of ${text.length} characters]`,
    truncated: true,
  };
}

function parseArguments(raw: string): Record<string, unknown> {
  const text = raw.trim() === '' ? '{}' : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`The arguments are not valid JSON (${(error as Error).message}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('The arguments must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

function resultText(result: ToolResult): string {
  if (result.content) return result.content;
  return result.structuredContent ? JSON.stringify(result.structuredContent) : '';
}

/**
 * Runs one tool call of the model under the tool's policy: arguments parsed, destructive tools refused
 * unless allowed, a timeout of its own, the result cut to its budget. Every failure of the tool becomes
 * an error the model reads; only the request's own abort is thrown.
 */
export async function runToolCall(
  call: ToolCall,
  tool: ToolV1 | undefined,
  options: { signal: AbortSignal; requestId: string },
): Promise<ToolCallOutcome> {
  const startedAt = performance.now();
  const name = call.function.name;
  const outcome = (content: string, isError: boolean): ToolCallOutcome => {
    const policy = tool ? toolPolicyOf(tool) : {};
    const cut = truncateResult(content, policy.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS);
    return {
      id: call.id,
      name,
      content: cut.text,
      isError,
      truncated: cut.truncated,
      durationMs: performance.now() - startedAt,
    };
  };
  if (!tool) return outcome(`Error: there is no tool named '${name}'.`, true);
  if (!mayRunTool(tool)) {
    return outcome(`Error: tool '${name}' may change or delete data and is not allowed here.`, true);
  }
  let input: Record<string, unknown>;
  try {
    input = parseArguments(call.function.arguments);
  } catch (error) {
    return outcome(`Error: ${(error as Error).message}`, true);
  }
  const timeoutMs = toolPolicyOf(tool).timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const scope = linkedAbort([options.signal], timeoutMs);
  try {
    // A tool that ignores its signal must not hold the loop past its timeout.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(abortReason(scope.signal));
      if (scope.signal.aborted) onAbort();
      else scope.signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    const result = await Promise.race([
      tool.doExecute(input, { signal: scope.signal, requestId: options.requestId }),
      aborted,
    ]);
    const text = resultText(result);
    return outcome(result.isError ? `Error: ${text}` : text, result.isError === true);
  } catch (error) {
    if (options.signal.aborted) throw abortReason(options.signal);
    if (scope.signal.aborted) {
      return outcome(`Error: tool '${name}' did not answer within ${timeoutMs} ms.`, true);
    }
    return outcome(
      `Error: tool '${name}' failed: ${error instanceof Error ? error.message : String(error)}`,
      true,
    );
  } finally {
    scope.dispose();
  }
}
