import type { ChatChunk, ChunkDelta } from '../spec/chat/chat-chunk.js';
import type { ToolCall } from '../spec/chat/chat-message.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { FinishReason, Usage } from '../spec/chat/chat-result.js';
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

/** Tool calls assembled from the fragments of a stream, by index. */
class ToolCallParts {
  readonly #calls = new Map<number, ToolCall>();

  add(delta: NonNullable<ChunkDelta['tool_calls']>): void {
    for (const part of delta) {
      let call = this.#calls.get(part.index);
      if (!call) {
        call = { id: '', type: 'function', function: { name: '', arguments: '' } };
        this.#calls.set(part.index, call);
      }
      if (part.id) call.id = part.id;
      if (part.function?.name) call.function.name += part.function.name;
      if (part.function?.arguments) call.function.arguments += part.function.arguments;
    }
  }

  list(round: number): ToolCall[] {
    return [...this.#calls.entries()]
      .sort(([left], [right]) => left - right)
      .map(([index, call]) => (call.id ? call : { ...call, id: `call_fusion_${round}_${index}` }));
  }
}

/**
 * The streamed form of {@link runToolLoop}: rounds of tool calls run before the final answer, whose
 * text streams as the model writes it (text the model writes before calling a tool streams too).
 * Chunks keep the id of the first round, the role comes once, and the last chunk carries the finish
 * reason, the summed usage and `fusion_tool_calls`.
 */
export async function* streamToolLoop(
  request: ChatRequest,
  answer: (request: ChatRequest) => AsyncIterable<ChatChunk>,
  context: ToolLoopContext,
): AsyncGenerator<ChatChunk, void, undefined> {
  const plan = planToolLoop(request, context.tools);
  const clientTools = clientToolNames(request.tools);
  const messages = [...plan.request.messages];
  const steps: ToolLoopStep[] = [];
  let usage: Usage | undefined;
  let head: Pick<ChatChunk, 'id' | 'created' | 'model'> | undefined;
  let roleSent = false;
  for (let round = 1; ; round++) {
    const last = round > plan.maxSteps;
    const parts = new ToolCallParts();
    let text = '';
    let finish: FinishReason | null = null;
    for await (const chunk of answer({
      ...plan.request,
      messages,
      ...(last && plan.request.tools ? { tool_choice: 'none' as const } : {}),
    })) {
      head ??= { id: chunk.id, created: chunk.created, model: chunk.model };
      usage = addUsage(usage, chunk.usage);
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.finish_reason) finish = choice.finish_reason;
      const { tool_calls: toolCalls, role, ...rest } = choice.delta;
      const delta: ChunkDelta = rest;
      if (toolCalls) parts.add(toolCalls);
      if (role && !roleSent) {
        roleSent = true;
        delta.role = role;
      }
      if (delta.content) text += delta.content;
      if (Object.keys(delta).length === 0) continue;
      const { usage: _usage, choices: _choices, ...fields } = chunk;
      yield {
        ...fields,
        id: head.id,
        created: head.created,
        choices: [{ index: 0, delta, finish_reason: null }],
      };
    }
    head ??= {
      id: `chatcmpl-fusion-${context.requestId}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
    };
    const calls = parts.list(round);
    const handBack = calls.some((call) => clientTools.has(call.function.name));
    if (last || calls.length === 0 || handBack) {
      const delta: ChunkDelta = handBack
        ? { tool_calls: calls.map((call, index) => ({ index, ...call })) }
        : {};
      const end: ChatChunk = {
        id: head.id,
        object: 'chat.completion.chunk',
        created: head.created,
        model: head.model,
        choices: [{ index: 0, delta, finish_reason: handBack ? 'tool_calls' : (finish ?? 'stop') }],
      };
      if (usage) end.usage = usage;
      if (steps.length > 0) end[TOOL_STEPS_FIELD] = steps;
      yield end;
      return;
    }
    const outcomes = [];
    for (const call of calls) {
      const outcome = await runToolCall(call, plan.tools.get(call.function.name), context);
      steps.push(stepOf(round, outcome));
      outcomes.push(outcome);
    }
    messages.push(...toolRoundMessages(text || null, calls, outcomes));
  }
}
