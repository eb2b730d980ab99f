import {
  RecursiveCharacterSplitter,
  type RecursiveCharacterSplitterOptions,
} from './recursive-character-splitter.js';

export interface TokenSplitterOptions extends Omit<RecursiveCharacterSplitterOptions, 'lengthFunction'> {
  /**
   * Number of tokens in a text, from the embedding or chat model's tokenizer.
   * @example (text) => tokenizer.encode(text).length
   */
  countTokens: (text: string) => number;
  /** Largest chunk in tokens. @default 256 */
  chunkSize?: number;
  /** Tokens repeated from the end of the previous chunk. @default 32 */
  chunkOverlap?: number;
}

/**
 * A recursive splitter whose sizes are token counts: chunks fit a model's context or an embedding
 * model's input limit. A chunk's size is the sum of its pieces' counts, which a BPE tokenizer can
 * only over-estimate (merges across piece edges remove tokens), so chunks never exceed `chunkSize`.
 */
export class TokenSplitter extends RecursiveCharacterSplitter {
  constructor(options: TokenSplitterOptions) {
    const { countTokens, ...rest } = options;
    super({ chunkSize: 256, chunkOverlap: 32, ...rest, lengthFunction: countTokens });
  }
}
