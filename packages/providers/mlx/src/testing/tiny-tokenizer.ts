/**
 * Small tokenizers in the `tokenizer.json` format of Hugging Face `tokenizers`, trained at test time
 * on a few sentences: byte-level BPE (GPT-2, Llama 3, Qwen), SentencePiece-style BPE with byte
 * fallback (Llama 2, Mistral) and WordPiece (BERT). Their vocabularies hold a few hundred tokens.
 */

import { bytesToUnicode } from '../tokenizer/byte-level-alphabet.js';

export { bytesToUnicode };

/** The text the merges are learned from. */
export const TRAINING_TEXT = [
  'The quick brown fox jumps over the lazy dog. Hello world! How are you today?',
  'The weather in Paris is sunny; the weather in London is rainy. What is the weather?',
  'You are a helpful assistant. Answer the question of the user in one short sentence.',
  'function get_weather(city) returns the current temperature in degrees and a summary.',
  'Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 2024. Tools, calls, arguments, name, results.',
  'Hello, hello, hello. Thank you very much. It is a nice day and the sun is out.',
].join('\n');

export interface SpecialToken {
  content: string;
  /** Special tokens are removed by `skip_special_tokens`; other added tokens are kept. @default true */
  special?: boolean;
}

export interface TinyTokenizerOptions {
  kind: 'byte-level' | 'metaspace' | 'wordpiece';
  /** Merges to learn (BPE kinds). @default 200 */
  merges?: number;
  /** Tokens added after the learned vocabulary, in order. */
  addedTokens?: (string | SpecialToken)[];
  /** A token the post-processor puts before every encoded text (`add_special_tokens`). */
  bosToken?: string;
  /** Extra text to learn merges from. */
  text?: string;
  /**
   * Byte-level only: pads the vocabulary to this size with synthetic merges (printable ASCII pairs,
   * then triples), for benchmarks that need a real-sized vocabulary.
   */
  vocabSize?: number;
}

export interface TinyTokenizer {
  /** The `tokenizer.json` object. */
  tokenizer: Record<string, unknown>;
  vocabSize: number;
  /** Id of each added token. */
  ids: Record<string, number>;
}

/** Learns `count` BPE merges over words given as symbol arrays. */
function learnMerges(words: Map<string, number>, symbolsOf: (word: string) => string[], count: number) {
  const entries = [...words].map(([word, frequency]) => ({ symbols: symbolsOf(word), frequency }));
  const merges: [string, string][] = [];
  for (let step = 0; step < count; step++) {
    const pairs = new Map<string, number>();
    for (const { symbols, frequency } of entries) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + frequency);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, frequency] of pairs) {
      if (frequency > bestCount || (frequency === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = frequency;
      }
    }
    if (!best) break;
    const [left, right] = best.split('\u0000') as [string, string];
    merges.push([left, right]);
    for (const entry of entries) {
      const merged: string[] = [];
      for (let i = 0; i < entry.symbols.length; i++) {
        if (entry.symbols[i] === left && entry.symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else merged.push(entry.symbols[i]!);
      }
      entry.symbols = merged;
    }
  }
  return merges;
}

function addedTokenEntries(
  options: TinyTokenizerOptions,
  vocab: Record<string, number>,
  fixed: SpecialToken[] = [],
): { added: Record<string, unknown>[]; ids: Record<string, number> } {
  const added: Record<string, unknown>[] = [];
  const ids: Record<string, number> = {};
  let next = Object.keys(vocab).length;
  for (const token of [...fixed, ...(options.addedTokens ?? [])]) {
    const spec = typeof token === 'string' ? { content: token } : token;
    const id = vocab[spec.content] ?? next++;
    vocab[spec.content] = id;
    ids[spec.content] = id;
    added.push({
      id,
      content: spec.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: spec.special ?? true,
    });
  }
  return { added, ids };
}

function templateProcessor(
  bos: string | undefined,
  ids: Record<string, number>,
): Record<string, unknown> | null {
  if (!bos) return null;
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { [bos]: { id: bos, ids: [ids[bos]], tokens: [bos] } },
  };
}

/** Adds merges of printable ASCII pairs, then of those pairs and a character, up to `size` tokens. */
function padVocabulary(vocab: Record<string, number>, merges: [string, string][], size: number): void {
  const printable = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i));
  let count = Object.keys(vocab).length;
  const add = (left: string, right: string): boolean => {
    if (count >= size) return false;
    if (vocab[left + right] === undefined) {
      vocab[left + right] = count++;
      merges.push([left, right]);
    }
    return true;
  };
  for (const a of printable) for (const b of printable) if (!add(a, b)) return;
  for (const a of printable) for (const b of printable) for (const c of printable) if (!add(a + b, c)) return;
}

function byteLevel(options: TinyTokenizerOptions): TinyTokenizer {
  const byteMap = bytesToUnicode();
  const text = options.text ? `${TRAINING_TEXT}\n${options.text}` : TRAINING_TEXT;
  const words = new Map<string, number>();
  for (const match of text.matchAll(/ ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu)) {
    const mapped = [...Buffer.from(match[0], 'utf8')].map((byte) => byteMap[byte]).join('');
    words.set(mapped, (words.get(mapped) ?? 0) + 1);
  }
  const merges = learnMerges(words, (word) => [...word], options.merges ?? 200);
  const vocab: Record<string, number> = {};
  for (const char of byteMap) vocab[char] = Object.keys(vocab).length;
  for (const [left, right] of merges) vocab[left + right] ??= Object.keys(vocab).length;
  if (options.vocabSize) padVocabulary(vocab, merges, options.vocabSize - (options.addedTokens?.length ?? 0));
  const { added, ids } = addedTokenEntries(options, vocab);
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: templateProcessor(options.bosToken, ids) ?? {
      type: 'ByteLevel',
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  return { tokenizer, vocabSize: Object.keys(vocab).length, ids };
}

function metaspace(options: TinyTokenizerOptions): TinyTokenizer {
  const text = options.text ? `${TRAINING_TEXT}\n${options.text}` : TRAINING_TEXT;
  const words = new Map<string, number>();
  for (const word of text.split(/\s+/).filter(Boolean)) {
    words.set(`▁${word}`, (words.get(`▁${word}`) ?? 0) + 1);
  }
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let byte = 0; byte < 256; byte++) {
    vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = Object.keys(vocab).length;
  }
  const characters = new Set(['▁', ...[...words.keys()].flatMap((word) => [...word])]);
  for (const char of [...characters].sort()) vocab[char] ??= Object.keys(vocab).length;
  const merges = learnMerges(words, (word) => [...word], options.merges ?? 200);
  for (const [left, right] of merges) vocab[left + right] ??= Object.keys(vocab).length;
  const { added, ids } = addedTokenEntries(options, vocab, [
    { content: '<unk>' },
    { content: '<s>' },
    { content: '</s>' },
  ]);
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: templateProcessor(options.bosToken, ids),
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  return { tokenizer, vocabSize: Object.keys(vocab).length, ids };
}

function wordPiece(options: TinyTokenizerOptions): TinyTokenizer {
  const text = (options.text ? `${TRAINING_TEXT}\n${options.text}` : TRAINING_TEXT).toLowerCase();
  const vocab: Record<string, number> = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4 };
  const words = [...new Set(text.match(/\p{L}+|\p{N}+|[^\s\p{L}\p{N}]/gu) ?? [])].sort();
  const characters = new Set(words.flatMap((word) => [...word]));
  for (const char of [...characters].sort()) vocab[char] ??= Object.keys(vocab).length;
  for (const char of [...characters].sort()) vocab[`##${char}`] ??= Object.keys(vocab).length;
  for (const word of words) if (word.length > 1) vocab[word] ??= Object.keys(vocab).length;
  const { added, ids } = addedTokenEntries(options, vocab, [
    { content: '[PAD]' },
    { content: '[UNK]' },
    { content: '[CLS]' },
    { content: '[SEP]' },
    { content: '[MASK]' },
  ]);
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  return { tokenizer, vocabSize: Object.keys(vocab).length, ids };
}

/** Builds a small tokenizer of the given kind. */
export function buildTinyTokenizer(options: TinyTokenizerOptions): TinyTokenizer {
  if (options.kind === 'byte-level') return byteLevel(options);
  if (options.kind === 'metaspace') return metaspace(options);
  return wordPiece(options);
}
