import type { ChatChunk } from '../spec/chat/chat-chunk.js';

/**
 * Whether a chunk commits a stream: content, reasoning, a tool call or the finish. Before it, a failed
 * target may still be replaced; after it, the client has seen part of an answer.
 */
export function hasContent(chunk: ChatChunk): boolean {
  const choice = chunk.choices[0];
  if (!choice) return false;
  const { delta } = choice;
  return Boolean(
    delta.content || delta.reasoning_content || delta.tool_calls?.length || choice.finish_reason,
  );
}
