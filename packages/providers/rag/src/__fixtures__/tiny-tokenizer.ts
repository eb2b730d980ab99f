import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What the tiny tokenizer counts: each word and each punctuation mark is one token. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+|[^\p{L}\p{N}\s]/gu)?.length ?? 0;
}

/**
 * Writes a tiny Hugging Face `tokenizer.json` (a WordPiece model whose vocabulary is whole words,
 * split like BERT at spaces and punctuation) into `directory`, as a local model folder holds one,
 * and returns its path. A word outside the vocabulary is one `[UNK]` token, so every word and
 * punctuation mark counts as one token ({@link countWords}).
 */
export async function writeTinyTokenizer(directory: string, words: readonly string[] = []): Promise<string> {
  const vocab: Record<string, number> = { '[UNK]': 0 };
  for (const word of ['fact', 'is', 'true', 'sentence', 'number', 'says', 'something', '.', ',', ...words]) {
    vocab[word.toLowerCase()] ??= Object.keys(vocab).length;
  }
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 0,
        content: '[UNK]',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: null,
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  await mkdir(directory, { recursive: true });
  const file = join(directory, 'tokenizer.json');
  await writeFile(file, JSON.stringify(tokenizer));
  return file;
}
