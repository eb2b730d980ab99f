import type { ChatMessage, ChatRequest, ChatResult } from '@fusionkit/core';
import { messageText } from './answer-context.js';

/** How a follow-up becomes a standalone question before retrieval. */
export interface StandaloneQuestionOptions {
  /** Instructions of the rewrite call. @default DEFAULT_REWRITE_PROMPT */
  prompt?: string;
  /** Earlier messages (user and assistant) shown to the rewrite call, most recent kept. @default 6 */
  maxHistory?: number;
  /** Tokens of the rewritten question at most. @default 128 */
  maxTokens?: number;
}

export const DEFAULT_REWRITE_PROMPT =
  'Rewrite the last user message of the conversation below as one standalone search query that can ' +
  'be understood without the conversation: resolve pronouns and references ("it", "the second one") ' +
  'from the earlier messages. Answer with the query only, no explanation, no quotes.';

/** Whether there is an earlier turn a follow-up could refer to. */
export function isMultiTurn(request: ChatRequest): boolean {
  let lastUser = -1;
  for (let index = request.messages.length - 1; index >= 0; index--) {
    if (request.messages[index]!.role === 'user') {
      lastUser = index;
      break;
    }
  }
  return request.messages
    .slice(0, Math.max(0, lastUser))
    .some((message) => message.role === 'user' || message.role === 'assistant');
}

/** The request of the rewrite call: the transcript of the last turns, as text, after the instructions. */
export function standaloneQuestionRequest(
  request: ChatRequest,
  options: StandaloneQuestionOptions = {},
): ChatRequest {
  const turns = request.messages.filter(
    (message): message is ChatMessage => message.role === 'user' || message.role === 'assistant',
  );
  const kept = turns.slice(-(Math.max(1, options.maxHistory ?? 6) + 1));
  const transcript = kept
    .map((message) => `${message.role === 'user' ? 'User' : 'Assistant'}: ${messageText(message).trim()}`)
    .join('\n\n');
  return {
    model: request.model,
    messages: [
      { role: 'system', content: options.prompt ?? DEFAULT_REWRITE_PROMPT },
      { role: 'user', content: transcript },
    ],
    max_tokens: options.maxTokens ?? 128,
    temperature: 0,
  };
}

/** The rewritten question from the rewrite call's answer: its first non-empty line, unquoted; '' when none. */
export function standaloneQuestionOf(result: ChatResult): string {
  const content = result.choices[0]?.message.content;
  const text = typeof content === 'string' ? content : '';
  // Reasoning models may think aloud first; the query is what follows.
  const answer = text.replace(/<think>[\s\S]*?<\/think>/g, '');
  const line = answer.split('\n').find((candidate) => candidate.trim().length > 0) ?? '';
  return line
    .trim()
    .replace(/^(standalone )?(search )?query:\s*/i, '')
    .replace(/^["'“”]+|["'“”]+$/g, '')
    .trim()
    .slice(0, 2000);
}
