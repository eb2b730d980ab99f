import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import { runToolCall } from './run-tool-call.js';
import {
  addUsage,
  clientToolNames,
  stepOf,
  TOOL_STEPS_FIELD,
  type ToolLoopContext,
  type ToolLoopStep,
  toolRoundMessages,
} from './tool-loop-context.js';
import { planToolLoop } from './tool-loop-request.js';

/**
 * Answers a request that asks for orchestrator tools (`fusion_tools`): offers them to the model, runs
 * the calls it makes, feeds the results back as `tool` messages, and repeats until the model answers
 * or `max_steps` rounds of calls have run (then it asks once more with `tool_choice: 'none'`).
 * A round that calls a tool the client declared itself is handed back to the client as it is.
 * The answer carries the summed usage and `fusion_tool_calls`, the calls that ran.
 */
export async function runToolLoop(
  request: ChatRequest,
  answer: (request: ChatRequest) => Promise<ChatResult>,
  context: ToolLoopContext,
): Promise<ChatResult> {
  const plan = planToolLoop(request, context.tools);
  const clientTools = clientToolNames(request.tools);
  const messages = [...plan.request.messages];
  const steps: ToolLoopStep[] = [];
  let usage: Usage | undefined;
  for (let round = 1; ; round++) {
    const last = round > plan.maxSteps;
    const result = await answer({
      ...plan.request,
      messages,
      ...(last && plan.request.tools ? { tool_choice: 'none' as const } : {}),
    });
    usage = addUsage(usage, result.usage);
    const message = result.choices[0]?.message;
    const calls = message?.tool_calls ?? [];
    if (last || calls.length === 0 || calls.some((call) => clientTools.has(call.function.name))) {
      if (usage) result.usage = usage;
      if (steps.length > 0) result[TOOL_STEPS_FIELD] = steps;
      return result;
    }
    const outcomes = [];
    for (const call of calls) {
      const outcome = await runToolCall(call, plan.tools.get(call.function.name), context);
      steps.push(stepOf(round, outcome));
      outcomes.push(outcome);
    }
    messages.push(...toolRoundMessages(message?.content ?? null, calls, outcomes));
  }
}
