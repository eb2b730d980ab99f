import type { FinishReason, Usage } from './chat-result.js';

/** A fragment of a tool call in a stream; `index` says which call it extends. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string | null;
  tool_calls?: ToolCallDelta[];
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: FinishReason | null;
}

/**
 * One event of a streamed answer, in the OpenAI `chat.completion.chunk` shape.
 *
 * A provider's stream ends with a chunk carrying `finish_reason`; when it knows token counts it
 * also sends `usage` (on that chunk or on a last chunk with empty `choices`).
 */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  [extra: string]: unknown;
}
