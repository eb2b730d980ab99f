import type { ChatMessage } from '../spec/chat/chat-message.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';

/** The aggregate-and-synthesize prompt of the Mixture-of-Agents paper (Wang et al., 2024). */
export const AGGREGATE_AND_SYNTHESIZE_PROMPT =
  'You have been provided with a set of responses from various open-source models to the latest user query. ' +
  'Your task is to synthesize these responses into a single, high-quality response. It is crucial to critically ' +
  'evaluate the information provided in these responses, recognizing that some of it may be biased or incorrect. ' +
  'Your response should not simply replicate the given answers but should offer a refined, accurate, and ' +
  'comprehensive reply to the instruction. Ensure your response is well-structured, coherent, and adheres to the ' +
  'highest standards of accuracy and reliability.\n\nResponses from models:';

/**
 * The request with the previous layer's answers injected as the paper's reference implementation
 * does: appended to the system message, or as a new system message first.
 */
export function withReferences(
  request: ChatRequest,
  answers: readonly string[],
  prompt: string,
): ChatRequest {
  const references = `${prompt}\n${answers.map((answer, index) => `${index + 1}. ${answer}`).join('\n')}`;
  const [first, ...rest] = request.messages;
  let messages: ChatMessage[];
  if (first && (first.role === 'system' || first.role === 'developer')) {
    const text =
      typeof first.content === 'string' ? first.content : first.content.map((part) => part.text).join('\n');
    messages = [{ ...first, content: `${text}\n\n${references}` }, ...rest];
  } else {
    messages = [{ role: 'system', content: references }, ...request.messages];
  }
  return { ...request, messages };
}
