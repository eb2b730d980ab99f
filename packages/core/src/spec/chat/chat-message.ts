/**
 * Chat messages in the OpenAI Chat Completions wire shape.
 *
 * The spec keeps OpenAI's snake_case field names on purpose: every provider we integrate with speaks
 * this shape, so requests and results pass through the orchestrator without a translation layer.
 */

/** A text part of a multi-part message. */
export interface TextContentPart {
  type: 'text';
  text: string;
}

/** An image part, by URL or `data:` URI. */
export interface ImageContentPart {
  type: 'image_url';
  image_url: {
    url: string;
    /** @default 'auto' */
    detail?: 'auto' | 'low' | 'high';
  };
}

/** An audio part (base64), as accepted by mlx-openai-server's multimodal models. */
export interface AudioContentPart {
  type: 'input_audio';
  input_audio: { data: string; format: 'wav' | 'mp3' };
}

/** Any part of a multi-part message content. */
export type ContentPart = TextContentPart | ImageContentPart | AudioContentPart;

/** A call of a tool, as produced by the model. */
export interface ToolCall {
  /** Id that the matching `tool` message refers to. @example 'call_abc123' */
  id: string;
  type: 'function';
  function: {
    name: string;
    /** The arguments as a JSON string, exactly as the model produced them. */
    arguments: string;
  };
}

/** `system` (and `developer`, which providers that lack it receive as `system`). */
export interface SystemMessage {
  role: 'system' | 'developer';
  content: string | TextContentPart[];
  name?: string;
}

export interface UserMessage {
  role: 'user';
  content: string | ContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  /** `null` when the message only carries tool calls. */
  content?: string | TextContentPart[] | null;
  /** Reasoning text of thinking models (mlx-openai-server's `reasoning_content`). */
  reasoning_content?: string | null;
  tool_calls?: ToolCall[];
  name?: string;
}

export interface ToolMessage {
  role: 'tool';
  content: string | TextContentPart[];
  /** The `id` of the tool call this message answers. */
  tool_call_id: string;
}

/** One message of a conversation. */
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

/** The role names the spec accepts. */
export type ChatRole = ChatMessage['role'];
