import type { ChatMessage, ToolCall } from '../spec/chat/chat-message.js';
import type { Usage } from '../spec/chat/chat-result.js';
import type { ToolV1 } from '../spec/tool/v1/tool-v1.js';
import type { ToolCallOutcome } from './run-tool-call.js';

/** What the tool loop needs of the request it runs in. */
export interface ToolLoopContext {
  /** The tools registered with the orchestrator (`fusion.tools`). */
  tools: ReadonlyMap<string, ToolV1>;
  /** The request's signal: aborting it stops the model call or tool running now. */
  signal: AbortSignal;
  requestId: string;
}

/** One tool call the loop ran, as the answer's `fusion_tool_calls` reports it. */
export interface ToolLoopStep {
  /** The model round that asked for it, from 1. */
  step: number;
  name: string;
  is_error: boolean;
  truncated: boolean;
  duration_ms: number;
}

/** The field of an answer that lists the tool calls the orchestrator ran for it. */
export const TOOL_STEPS_FIELD = 'fusion_tool_calls';

export function stepOf(step: number, outcome: ToolCallOutcome): ToolLoopStep {
  return {
    step,
    name: outcome.name,
    is_error: outcome.isError,
    truncated: outcome.truncated,
    duration_ms: Math.round(outcome.durationMs),
  };
}

/** The messages that continue the conversation after a round of tool calls. */
export function toolRoundMessages(
  content: string | null,
  calls: ToolCall[],
  outcomes: ToolCallOutcome[],
): ChatMessage[] {
  return [
    { role: 'assistant', content, tool_calls: calls },
    ...outcomes.map(
      (outcome): ChatMessage => ({ role: 'tool', tool_call_id: outcome.id, content: outcome.content }),
    ),
  ];
}

/** Adds one call's usage to a running sum. */
export function addUsage(sum: Usage | undefined, usage: Usage | null | undefined): Usage | undefined {
  if (!usage) return sum;
  const next: Usage = sum ? { ...sum } : { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  next.prompt_tokens += usage.prompt_tokens;
  next.completion_tokens += usage.completion_tokens;
  next.total_tokens += usage.total_tokens;
  return next;
}

/** Names of the functions the client declared itself: calls of these go back to the client. */
export function clientToolNames(tools: { function: { name: string } }[] | undefined): Set<string> {
  return new Set((tools ?? []).map((tool) => tool.function.name));
}
