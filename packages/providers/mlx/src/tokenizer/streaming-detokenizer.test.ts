import { describe, expect, it } from 'vitest';
import { qwen3TokenizerFiles } from '../testing/qwen3-tokenizer-fixture.js';
import { tinyTokenizerFor } from '../testing/tiny-model.js';
import { StreamingDetokenizer } from './streaming-detokenizer.js';
import { TextTokenizer } from './text-tokenizer.js';

const TEXT =
  'Hello wörld! 你好, 世界 🎉🚀 — naïve café… The weather in Paris is sunny.\nNew line: “quotes” and ½.';

function stream(tokenizer: TextTokenizer, text: string): string[] {
  const ids = tokenizer.encode(text, false);
  const detokenizer = new StreamingDetokenizer((piece) => tokenizer.decode(piece));
  const pieces = ids.map((id) => detokenizer.push(id));
  pieces.push(detokenizer.flush());
  return pieces;
}

describe('StreamingDetokenizer', () => {
  it.each([
    ['byte-level BPE (Llama 3, Qwen)', () => new TextTokenizer(tinyTokenizerFor('qwen2').tokenizer, {})],
    [
      'SentencePiece-style BPE with byte fallback (Mistral)',
      () => new TextTokenizer(tinyTokenizerFor('mistral').tokenizer, {}),
    ],
    [
      'Qwen3 (real vocabulary)',
      () => new TextTokenizer(qwen3TokenizerFiles().tokenizer, qwen3TokenizerFiles().config),
    ],
  ])('%s: never emits a broken character, and the pieces add up to the text', (_name, create) => {
    const tokenizer = create();
    const pieces = stream(tokenizer, TEXT);
    for (const piece of pieces) expect(piece).not.toContain('\ufffd');
    expect(pieces.join('')).toBe(tokenizer.decode(tokenizer.encode(TEXT, false)));
    expect(pieces.join('')).toBe(TEXT);
  });

  it('holds multi-byte characters split over byte tokens until they are complete', () => {
    const tokenizer = new TextTokenizer(tinyTokenizerFor('qwen2').tokenizer, {});
    const ids = tokenizer.encode('你', false);
    expect(ids).toHaveLength(3);
    const detokenizer = new StreamingDetokenizer((piece) => tokenizer.decode(piece));
    expect(ids.map((id) => detokenizer.push(id))).toEqual(['', '', '你']);
  });
});
