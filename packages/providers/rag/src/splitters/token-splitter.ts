import { countTokensWith } from './named-tokenizer.js';
import {
  RecursiveCharacterSplitter,
  type RecursiveCharacterSplitterOptions,
} from './recursive-character-splitter.js';

export interface TokenSplitterOptions extends Omit<RecursiveCharacterSplitterOptions, 'lengthFunction'> {
  /**
   * Number of tokens in a text, from the embedding or chat model's tokenizer. Give this or `tokenizer`.
   * @example (text) => tokenizer.encode(text).length
   */
  countTokens?: (text: string) => number;
  /**
   * The tokenizer of a named model, from the encodings `js-tiktoken` ships: an OpenAI model name or an
   * encoding name. Give this or `countTokens`.
   * @example 'gpt-4o'
   * @example 'cl100k_base'
   */
  tokenizer?: string;
  /** Largest chunk in tokens. @default 256 */
  chunkSize?: number;
  /** Tokens repeated from the end of the previous chunk. @default 32 */
  chunkOverlap?: number;
}

/**
 * A recursive splitter whose sizes are token counts: chunks fit a model's context or an embedding
 * model's input limit. A chunk's size is the sum of its pieces' counts, which a BPE tokenizer can
 * only over-estimate (merges across piece edges remove tokens), so chunks never exceed `chunkSize`.
 * It needs a tokenizer (`countTokens` or `tokenizer`): without one it throws rather than count
 * characters.
 */
export class TokenSplitter extends RecursiveCharacterSplitter {
  constructor(options: TokenSplitterOptions) {
    const { countTokens, tokenizer, ...rest } = options ?? {};
    let lengthFunction = countTokens;
    if (typeof lengthFunction !== 'function') {
      if (tokenizer === undefined) {
        throw new TypeError(
          "TokenSplitter needs a tokenizer: pass 'countTokens' (a function) or 'tokenizer' (a model name such as 'gpt-4o').",
        );
      }
      lengthFunction = countTokensWith(tokenizer);
    }
    super({ chunkSize: 256, chunkOverlap: 32, ...rest, lengthFunction });
  }
}
