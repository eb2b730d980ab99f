/**
 * A model's `tokenizer.json`, through `@huggingface/tokenizers`, with the special-token facts of
 * `tokenizer_config.json`. Prompts rendered by a chat template already hold their special tokens:
 * {@link TextTokenizer.encodePrompt} adds a BOS only when the template did not write one.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export class TextTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  /** Whether `encode(…, add_special_tokens)` puts something before the text. */
  readonly #addsPrefix: boolean;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>) {
    this.#tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.bosToken = tokenText(tokenizerConfig.bos_token);
    this.eosToken = tokenText(tokenizerConfig.eos_token);
    const probe = 'a';
    const plain = this.#tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const withSpecial = this.#tokenizer.encode(probe).ids;
    this.#addsPrefix = withSpecial.length > plain.length && withSpecial[0] !== plain[0];
  }

  static fromFiles(tokenizerFile: string, tokenizerConfig: Record<string, unknown>): TextTokenizer {
    return new TextTokenizer(JSON.parse(readFileSync(tokenizerFile, 'utf8')), tokenizerConfig);
  }

  /**
   * Encodes a prompt rendered by a chat template. Special tokens in the text are kept as such; the
   * tokenizer's own prefix (BOS) is added only when the text does not start with the BOS already.
   */
  encodePrompt(prompt: string): number[] {
    const ids = this.#tokenizer.encode(prompt, { add_special_tokens: false }).ids;
    if (!this.#addsPrefix) return ids;
    if (this.bosToken && prompt.startsWith(this.bosToken)) return ids;
    return this.#tokenizer.encode(prompt).ids;
  }

  /** Encodes plain text, with the special tokens the tokenizer adds (embedding inputs). */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.#tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: number[], skipSpecialTokens = false): string {
    if (ids.length === 0) return '';
    return this.#tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /** The id of a token, when it is in the vocabulary. */
  idOf(token: string): number | undefined {
    return this.#tokenizer.token_to_id(token);
  }

  get vocabSize(): number {
    return this.#tokenizer.get_vocab(true).size;
  }
}
