import type { ChatRequest } from '../spec/chat/chat-request.js';
import { lastUserText } from './estimate-tokens.js';

const reasoningWords =
  /\b(prove|proof|derive|step[- ]by[- ]step|explain why|analy[sz]e|compare|trade-?offs?|design|architect|optimi[sz]e|debug|refactor|implement|algorithm|complexity|theorem|calculate|evaluate|critique)\b/gi;
const codeOrMath = /```|\b(def|function|class|return|SELECT|import)\b|[=<>^∑∫√]\s*\w|\\frac|\$\$/;

/**
 * A placeholder for a learned strong/weak scorer (RouteLLM trains one on preference data): rates the
 * last user message from 0 (easy) to 1 (hard) by its length, reasoning words, code or math, several
 * questions, and the length of the conversation. Cheap and deterministic; calibrate a threshold for
 * it with `calibrateThreshold` on your own sample prompts, or plug in a real classifier.
 *
 * @example thresholdRouter({ strong: 'openai/gpt-4o', weak: 'lab/qwen3-4b', scorer: complexityScorer })
 */
export function complexityScorer(request: ChatRequest): number {
  const text = lastUserText(request);
  // Saturates near 2,000 characters (about 500 tokens).
  const length = Math.min(1, Math.log1p(text.length) / Math.log1p(2000));
  reasoningWords.lastIndex = 0;
  const reasoning = Math.min(1, (text.match(reasoningWords)?.length ?? 0) / 3);
  const code = codeOrMath.test(text) ? 1 : 0;
  let questions = 0;
  for (let index = text.indexOf('?'); index !== -1; index = text.indexOf('?', index + 1)) questions++;
  const manyQuestions = Math.min(1, Math.max(0, questions - 1) / 2);
  const conversation = Math.min(1, Math.max(0, request.messages.length - 2) / 10);
  return 0.35 * length + 0.3 * reasoning + 0.15 * code + 0.1 * manyQuestions + 0.1 * conversation;
}
