import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelManifest } from '../loading/model-manifest.js';
import { referenceEmbedding } from '../testing/reference-bert.js';
import { type TinyEmbeddingModelOptions, writeTinyEmbeddingModel } from '../testing/tiny-embedding-model.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { EmbeddingModelHost } from '../worker/embedding-model-host.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-bert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function host(options: TinyEmbeddingModelOptions = {}) {
  const tiny = writeTinyEmbeddingModel(join(root, `e${counter++}`), options);
  return { tiny, host: new EmbeddingModelHost(readModelManifest(tiny.path)) };
}

const texts = [
  'The weather in Paris is sunny.',
  'Hello world',
  'A much longer text about the lazy dog and the quick brown fox.',
];
const never = () => false;

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('BERT embeddings', () => {
  it.each([
    ['mean pooling, normalised (all-MiniLM, e5)', { pooling: 'mean' }],
    ['CLS pooling, normalised (bge), under a bert. prefix', { pooling: 'cls', prefix: 'bert.' }],
    ['mean pooling without normalisation', { pooling: 'mean', normalize: false }],
  ] satisfies [string, TinyEmbeddingModelOptions][])(
    '%s: match a float64 JavaScript reference within 1e-4',
    async (_name, options) => {
      const { tiny, host: model } = host(options);
      const { embeddings, promptTokens } = await model.embed(texts, never);
      const tokenizer = TextTokenizer.fromFiles(join(tiny.path, 'tokenizer.json'), {});
      let tokens = 0;
      texts.forEach((text, index) => {
        const ids = tokenizer.encode(text);
        tokens += ids.length;
        expect(maxDifference(embeddings[index]!, referenceEmbedding(tiny.path, ids))).toBeLessThan(1e-4);
      });
      expect(promptTokens).toBe(tokens);
      const norm = Math.hypot(...embeddings[0]!);
      if ('normalize' in options && options.normalize === false)
        expect(Math.abs(norm - 1)).toBeGreaterThan(1e-3);
      else expect(norm).toBeCloseTo(1, 5);
    },
  );

  it('gives a text the same vector alone as in a padded batch', async () => {
    const { host: model } = host();
    const alone = await model.embed([texts[1]!], never);
    const batch = await model.embed(texts, never);
    expect(maxDifference(alone.embeddings[0]!, batch.embeddings[1]!)).toBeLessThan(1e-5);
  });

  it('truncates texts longer than the model positions, keeping [SEP]', () => {
    const { host: model } = host({ maxPositions: 16 });
    const ids = model.tokens('hello '.repeat(40));
    expect(ids).toHaveLength(16);
    expect(ids[15]).toBe(3);
  });
});
