import type { ChatMessage, ChatRequest } from '@fusionkit/core';
import { z } from 'zod';

/** The conversation part of the `chat` and `fuse` inputs. */
export const conversationShape = {
  prompt: z.string().max(1_000_000).optional().describe('The user message (added after `messages`).'),
  messages: z
    .array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }))
    .max(500)
    .optional()
    .describe('Earlier turns of the conversation, oldest first.'),
  system: z.string().max(100_000).optional().describe('A system prompt, placed first.'),
  max_tokens: z.number().int().positive().max(1_000_000).optional().describe('Token limit of the answer.'),
  temperature: z.number().min(0).max(2).optional(),
};

/** Usage as a tool result reports it. */
export const usageSchema = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
});

export type Conversation = {
  prompt?: string | undefined;
  messages?: { role: 'system' | 'user' | 'assistant'; content: string }[] | undefined;
  system?: string | undefined;
  max_tokens?: number | undefined;
  temperature?: number | undefined;
};

/** A refinement both inputs share: something to answer. */
export function hasTurn(input: Conversation): boolean {
  return input.prompt !== undefined || (input.messages?.length ?? 0) > 0;
}

export const NO_TURN = { message: 'Give `prompt` or `messages`.' };

/** The chat request of a tool input. */
export function chatRequestOf(model: string, input: Conversation): ChatRequest {
  const messages: ChatMessage[] = [];
  if (input.system) messages.push({ role: 'system', content: input.system });
  for (const message of input.messages ?? []) messages.push(message);
  if (input.prompt !== undefined) messages.push({ role: 'user', content: input.prompt });
  const request: ChatRequest = { model, messages };
  if (input.max_tokens !== undefined) request.max_tokens = input.max_tokens;
  if (input.temperature !== undefined) request.temperature = input.temperature;
  return request;
}
