import { createRequire } from 'node:module';
import { InvalidRequestError } from '@fusionkit/core';
import { getEncodingNameForModel, Tiktoken, type TiktokenBPE, type TiktokenModel } from 'js-tiktoken/lite';

/** Encodings `js-tiktoken` ships, by name. */
const ENCODINGS = ['o200k_base', 'cl100k_base', 'p50k_base', 'p50k_edit', 'r50k_base', 'gpt2'] as const;
type EncodingName = (typeof ENCODINGS)[number];

const loaded = new Map<EncodingName, Tiktoken>();

function encodingName(tokenizer: string): EncodingName | undefined {
  if ((ENCODINGS as readonly string[]).includes(tokenizer)) return tokenizer as EncodingName;
  try {
    return getEncodingNameForModel(tokenizer as TiktokenModel);
  } catch {
    return undefined;
  }
}

/**
 * Token counting with the tokenizer of a named model, from the encodings `js-tiktoken` ships (no
 * download): an OpenAI model name (`gpt-4o`, `gpt-4`, `text-embedding-3-small`, …) or an encoding
 * name (`o200k_base`, `cl100k_base`, …). Its rank table (1–4 MB) is read on first use and kept.
 * An unknown name is a 400 `unknown_tokenizer` naming `param`.
 * @example countTokensWith('gpt-4o')('Hello world') // 2
 */
export function countTokensWith(tokenizer: string, param = 'tokenizer'): (text: string) => number {
  const name = typeof tokenizer === 'string' ? encodingName(tokenizer) : undefined;
  if (!name) {
    throw new InvalidRequestError(
      `Unknown tokenizer ${JSON.stringify(tokenizer)}: name an OpenAI model (e.g. 'gpt-4o', 'text-embedding-3-small') or an encoding (${ENCODINGS.join(', ')}).`,
      { code: 'unknown_tokenizer', param },
    );
  }
  let encoding = loaded.get(name);
  if (!encoding) {
    // Synchronous on purpose: splitters are synchronous, and a collection's log is replayed with them.
    const ranks = createRequire(import.meta.url)(`js-tiktoken/ranks/${name}`) as { default?: TiktokenBPE };
    encoding = new Tiktoken((ranks.default ?? ranks) as TiktokenBPE);
    loaded.set(name, encoding);
  }
  const counter = encoding;
  // Special-token text in a document is text, not a control token.
  return (text) => counter.encode(text, [], []).length;
}

/** Whether a tokenizer name is known (no rank table is loaded). */
export function isKnownTokenizer(tokenizer: string): boolean {
  return encodingName(tokenizer) !== undefined;
}
