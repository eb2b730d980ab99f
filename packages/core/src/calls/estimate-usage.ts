import { CHARS_PER_TOKEN, contentLength } from '../routing/estimate-tokens.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';

/**
 * Token counts for an answer whose provider reported none (a server that omits `usage`, or one that
 * only sends it when asked). The counts are estimates, about 4 characters a token for English text,
 * as OpenAI's own guidance puts it, plus the few tokens each message costs in chat templates; a stream
 * also counts at least one token per content chunk, since local servers send one token a chunk.
 * Budgets, metrics and the client's `usage` then see a number instead of nothing.
 */
/** Role markers and separators a chat template adds around each message. */
const TOKENS_PER_MESSAGE = 3;
/** The assistant header a template adds to prime the reply. */
const REPLY_PRIMING_TOKENS = 3;

function textTokens(characters: number): number {
  return Math.ceil(characters / CHARS_PER_TOKEN);
}

/** An estimate of the prompt's tokens: its messages' text and tool definitions. */
export function estimatePromptTokens(request: ChatRequest): number {
  let characters = 0;
  let messages = 0;
  for (const message of request.messages ?? []) {
    messages++;
    characters += contentLength(message.content);
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls)
        characters += call.function.name.length + call.function.arguments.length;
    }
  }
  if (request.tools?.length) characters += JSON.stringify(request.tools).length;
  return textTokens(characters) + messages * TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS;
}

function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** The estimated usage of a non-streamed answer. */
export function estimateResultUsage(request: ChatRequest, result: ChatResult): Usage {
  let characters = 0;
  for (const choice of result.choices) {
    const message = choice.message;
    characters += (message.content?.length ?? 0) + (message.reasoning_content?.length ?? 0);
    for (const call of message.tool_calls ?? [])
      characters += call.function.name.length + call.function.arguments.length;
  }
  return usageOf(estimatePromptTokens(request), textTokens(characters));
}

/** Counts a stream's output as it passes, for {@link StreamUsageCounter.usage} at its end. */
export class StreamUsageCounter {
  #characters = 0;
  #chunks = 0;

  /** Adds one chunk's generated text (content, reasoning, tool-call names and arguments). */
  count(chunk: ChatChunk): void {
    const choice = chunk.choices[0];
    if (!choice) return;
    const delta = choice.delta;
    let characters = (delta.content?.length ?? 0) + (delta.reasoning_content?.length ?? 0);
    if (delta.tool_calls) {
      for (const call of delta.tool_calls) {
        characters += (call.function?.name?.length ?? 0) + (call.function?.arguments?.length ?? 0);
      }
    }
    if (characters === 0) return;
    this.#characters += characters;
    this.#chunks++;
  }

  usage(request: ChatRequest): Usage {
    return usageOf(estimatePromptTokens(request), Math.max(this.#chunks, textTokens(this.#characters)));
  }
}
