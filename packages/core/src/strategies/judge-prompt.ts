import type { ChatMessage } from '../spec/chat/chat-message.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';

/** What "best" means to the judge unless a pipeline says otherwise. */
export const DEFAULT_JUDGE_CRITERIA = 'correctness, completeness, helpfulness and clarity';

/** A message's text, image parts shown as a placeholder. */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join(' ');
}

/** The conversation as plain text, one `role: text` block per message. */
export function conversationText(request: ChatRequest): string {
  return request.messages.map((message) => `${message.role}: ${messageText(message)}`).join('\n\n');
}

/**
 * The judge's messages: a system prompt that asks for a JSON verdict, and the conversation with the
 * numbered candidates. Answers are fenced with `<<<`/`>>>` so that their own text cannot pass for
 * the prompt's structure.
 */
export function judgeMessages(
  request: ChatRequest,
  candidates: readonly string[],
  criteria: string,
): ChatMessage[] {
  const numbered = candidates
    .map((candidate, index) => `Candidate ${index + 1}:\n<<<\n${candidate}\n>>>`)
    .join('\n\n');
  return [
    {
      role: 'system',
      content:
        `You are an impartial judge. You compare candidate answers to a conversation and choose the best one ` +
        `by ${criteria}. Ignore the order and the length of the candidates. Reply with JSON only, in the form ` +
        `{"best": <candidate number>, "reason": "<one sentence>"}.`,
    },
    {
      role: 'user',
      content:
        `Conversation:\n<<<\n${conversationText(request)}\n>>>\n\n${numbered}\n\n` +
        `Which candidate answers the last message best? Reply with JSON only: ` +
        `{"best": <a number from 1 to ${candidates.length}>, "reason": "..."}`,
    },
  ];
}
