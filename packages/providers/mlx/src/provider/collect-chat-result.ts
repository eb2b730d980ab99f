import type { ChatChunk, ChatResult, FinishReason, ToolCall, Usage } from '@fusionkit/core';

/** Folds a streamed answer into one `chat.completion` result. */
export async function collectChatResult(chunks: AsyncIterable<ChatChunk>): Promise<ChatResult> {
  let id = '';
  let created = 0;
  let model = '';
  let content = '';
  let reasoning = '';
  let finishReason: FinishReason | null = null;
  let usage: Usage | undefined;
  const toolCalls: ToolCall[] = [];
  for await (const chunk of chunks) {
    id = chunk.id;
    created = chunk.created;
    model = chunk.model;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      const { delta } = choice;
      if (delta.content) content += delta.content;
      if (delta.reasoning_content) reasoning += delta.reasoning_content;
      for (const call of delta.tool_calls ?? []) {
        const existing = toolCalls[call.index];
        if (existing) existing.function.arguments += call.function?.arguments ?? '';
        else {
          toolCalls[call.index] = {
            id: call.id ?? `call_${call.index}`,
            type: 'function',
            function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
          };
        }
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  const result: ChatResult = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: content || (toolCalls.length > 0 ? null : ''),
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason,
      },
    ],
  };
  if (usage) result.usage = usage;
  return result;
}
