import type { ChatRequest } from '../spec/chat/chat-request.js';

/** The instruction that follows the partial answer in a continuation request. */
export const CONTINUE_INSTRUCTION =
  'Your previous answer was cut off. Continue it exactly where it stopped: do not repeat any of it, ' +
  'do not restart, and do not mention the interruption.';

/**
 * The request that asks another target to finish a partial answer: the original messages, the
 * partial answer as an assistant message, then the instruction to continue.
 */
export function continuationRequest(request: ChatRequest, partial: string, instruction: string): ChatRequest {
  return {
    ...request,
    messages: [
      ...request.messages,
      { role: 'assistant', content: partial },
      { role: 'user', content: instruction },
    ],
  };
}

/**
 * Drops a restart from a continuation: models asked to continue sometimes start the answer over.
 * While the new text is still a prefix of the partial answer it is held back; if it turns out to
 * repeat the whole partial answer, the repeat is dropped and only what follows is passed on; as soon
 * as it differs, everything held is passed on. Costs at most the first chunks' latency.
 */
export class RestartFilter {
  readonly #partial: string;
  #held = '';
  #passing = false;

  constructor(partial: string) {
    this.#partial = partial;
    this.#passing = partial.length === 0;
  }

  /** The text to emit for the next piece of the continuation (possibly `''`). */
  push(text: string): string {
    if (this.#passing || !text) return text;
    const held = this.#held + text;
    if (this.#partial.startsWith(held)) {
      if (held.length < this.#partial.length) {
        this.#held = held;
        return '';
      }
      this.#passing = true;
      return '';
    }
    this.#passing = true;
    this.#held = '';
    return held.startsWith(this.#partial) ? held.slice(this.#partial.length) : held;
  }
}
