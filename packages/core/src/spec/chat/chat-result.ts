import type { ToolCall } from './chat-message.js';

/** Why generation ended. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Token counts of one call, or the sum of all calls of a fused answer. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

/** The assistant message of a result. */
export interface ResultMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string | null;
  tool_calls?: ToolCall[];
}

export interface ChatChoice {
  index: number;
  message: ResultMessage;
  finish_reason: FinishReason | null;
}

/** A complete (non-streamed) chat answer, in the OpenAI `chat.completion` shape. */
export interface ChatResult {
  id: string;
  object: 'chat.completion';
  /** Unix seconds. */
  created: number;
  /** The model that was asked for (a pipeline name stays a pipeline name). */
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
  system_fingerprint?: string;
  /** Extra fields (for example RAG `citations`) are passed through to the client. */
  [extra: string]: unknown;
}
