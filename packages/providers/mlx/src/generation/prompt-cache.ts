/**
 * The KV cache a model keeps between requests, with the tokens it holds. A new prompt that starts
 * like the previous conversation (the next turn of a chat) only prefills what is new.
 */
import type { KvCache } from '../model/kv-cache.js';

export class PromptCache {
  /** Tokens whose keys and values the cache holds, in order. */
  tokens: number[] = [];

  constructor(readonly layers: KvCache[]) {}

  /**
   * Keeps the longest prefix shared with `prompt` (leaving at least one prompt token to run, whose
   * logits start the generation) and returns how many tokens are reused.
   */
  reuse(prompt: readonly number[]): number {
    let shared = 0;
    const limit = Math.min(this.tokens.length, prompt.length - 1);
    while (shared < limit && this.tokens[shared] === prompt[shared]) shared++;
    this.trim(shared);
    return shared;
  }

  trim(tokens: number): void {
    this.tokens.length = Math.min(this.tokens.length, tokens);
    for (const layer of this.layers) layer.trim(this.tokens.length);
  }

  get bytes(): number {
    let total = 0;
    for (const layer of this.layers) total += layer.bytes;
    return total;
  }
}
