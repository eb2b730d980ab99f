import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';

export { hasContent } from '../util/has-content.js';

/** The answer text of a chunk (`''` when it carries none). */
export function chunkText(chunk: ChatChunk): string {
  return chunk.choices[0]?.delta.content ?? '';
}

/**
 * The answer of a result as text: its content, or, for an answer made only of tool calls, the calls
 * as `name(arguments)` lines, so that votes and judges can compare them too.
 */
export function resultText(result: ChatResult): string {
  const message = result.choices[0]?.message;
  if (!message) return '';
  if (message.content) return message.content;
  return (message.tool_calls ?? [])
    .map((call) => `${call.function.name}(${call.function.arguments})`)
    .join('\n');
}

/**
 * A complete result as the chunks of a stream: one with the whole message, one with the finish
 * reason, and one with the usage (when known). For strategies that compute before they answer.
 */
export function resultChunks(result: ChatResult): ChatChunk[] {
  const base = { id: result.id, object: 'chat.completion.chunk' as const, created: result.created };
  const choice = result.choices[0];
  const message = choice?.message;
  const chunks: ChatChunk[] = [
    {
      ...base,
      model: result.model,
      choices: [
        {
          index: 0,
          delta: {
            role: 'assistant',
            content: message?.content ?? '',
            ...(message?.reasoning_content ? { reasoning_content: message.reasoning_content } : {}),
            ...(message?.tool_calls?.length
              ? { tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })) }
              : {}),
          },
          finish_reason: null,
        },
      ],
    },
    {
      ...base,
      model: result.model,
      choices: [{ index: 0, delta: {}, finish_reason: choice?.finish_reason ?? 'stop' }],
    },
  ];
  if (result.usage) chunks.push({ ...base, model: result.model, choices: [], usage: result.usage });
  return chunks;
}
