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

/** How the vocabulary's token strings map to text, in xgrammar's terms. */
export type VocabularyType = 'byte_level' | 'byte_fallback' | 'raw';

/** The vocabulary as a grammar engine needs it. */
export interface TokenizerVocabulary {
  /** Each token's string as stored in `tokenizer.json`, by id; special tokens are ''. */
  tokens: string[];
  type: VocabularyType;
  /** Whether encoding puts a space (`▁`) before the text. */
  prependsSpace: boolean;
}

/** Type names of a `tokenizer.json` component and of the parts of a `Sequence` one. */
function componentTypes(component: unknown): string[] {
  if (!component || typeof component !== 'object') return [];
  const { type, decoders, normalizers, pretokenizers } = component as Record<string, unknown>;
  const parts = [decoders, normalizers, pretokenizers].flatMap((list) => (Array.isArray(list) ? list : []));
  return [String(type), ...parts.flatMap(componentTypes)];
}

export class TextTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  /** Whether `encode(…, add_special_tokens)` puts something before the text. */
  readonly #addsPrefix: boolean;
  readonly #json: Record<string, unknown>;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>) {
    this.#tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.#json = tokenizerJson;
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

  /** The vocabulary, for constrained decoding. */
  vocabulary(): TokenizerVocabulary {
    const tokens: string[] = [];
    for (const [token, id] of this.#tokenizer.get_vocab(true)) tokens[id] = token;
    const added = Array.isArray(this.#json.added_tokens) ? this.#json.added_tokens : [];
    for (const token of added as { id?: unknown; special?: unknown }[]) {
      // A special token is never part of an answer's text.
      if (typeof token.id === 'number' && token.special === true) tokens[token.id] = '';
    }
    for (let id = 0; id < tokens.length; id++) tokens[id] ??= '';
    const decoder = componentTypes(this.#json.decoder);
    const type: VocabularyType = decoder.includes('ByteLevel')
      ? 'byte_level'
      : decoder.includes('ByteFallback')
        ? 'byte_fallback'
        : 'raw';
    const encoding = [...componentTypes(this.#json.normalizer), ...componentTypes(this.#json.pre_tokenizer)];
    const prependsSpace =
      type !== 'byte_level' && (encoding.includes('Prepend') || encoding.includes('Metaspace'));
    return { tokens, type, prependsSpace };
  }

  get vocabSize(): number {
    return this.#tokenizer.get_vocab(true).size;
  }
}
