import type { ChatMessage } from '../spec/chat/chat-message.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';

/** Characters per token of the cheap estimate (English text with BPE tokenizers: about 4). */
export const CHARS_PER_TOKEN = 4;

/** Characters of a message's text (text parts only; images and audio count nothing). */
export function contentLength(content: ChatMessage['content'] | undefined): number {
  if (typeof content === 'string') return content.length;
  if (!content) return 0;
  let length = 0;
  for (const part of content) if (part.type === 'text') length += part.text.length;
  return length;
}

/**
 * A cheap estimate of the prompt's tokens: characters of message text (and tool call arguments)
 * divided by {@link CHARS_PER_TOKEN}. Reads only string lengths: no tokenizer, no copies. Images,
 * audio and tool definitions are not counted.
 */
export function estimatePromptTokens(request: ChatRequest): number {
  let characters = 0;
  for (const message of request.messages) {
    characters += contentLength(message.content);
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) characters += call.function.arguments.length;
    }
  }
  return Math.ceil(characters / CHARS_PER_TOKEN);
}

/** Whether any user message carries an image part. */
export function hasImageParts(request: ChatRequest): boolean {
  for (const message of request.messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const part of message.content) if (part.type === 'image_url') return true;
  }
  return false;
}

/** The text of the last user message (text parts joined by a space), or `''`. */
export function lastUserText(request: ChatRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index]!;
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    let text = '';
    for (const part of message.content) {
      if (part.type === 'text') text = text ? `${text} ${part.text}` : part.text;
    }
    return text;
  }
  return '';
}
