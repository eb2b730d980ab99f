import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { createMockEmbedder } from '../__fixtures__/mock-embedder.js';
import { BoundedMap } from './bounded-map.js';
import { createCachedEmbedder } from './cached-embedder.js';

describe('createCachedEmbedder', () => {
  it('embeds through fusion.embed in batches, one call per distinct text', async () => {
    const { embed, inputs, model } = createMockEmbedder({ dimensions: 8 });
    const embedder = createCachedEmbedder({ model, embed, batchSize: 2, cache: false });
    const vectors = await embedder.embed(['a', 'b', 'a', 'c']);
    expect(vectors).toHaveLength(4);
    expect(vectors[0]).toEqual(vectors[2]);
    expect(vectors[0]).toHaveLength(8);
    expect(inputs).toEqual(['a', 'b', 'c']);
    expect(embedder.stats).toEqual({ hits: 0, misses: 3, batches: 2 });
  });

  it('caches vectors in keyv by model and text hash', async () => {
    const { embed, inputs, model } = createMockEmbedder();
    const cache = new Keyv();
    const first = createCachedEmbedder({ model, embed, cache });
    const expected = await first.embed(['alpha', 'beta']);
    const second = createCachedEmbedder({ model, embed, cache });
    expect(await second.embed(['beta', 'alpha', 'gamma'])).toEqual([
      expected[1],
      expected[0],
      expect.any(Array),
    ]);
    expect(inputs).toEqual(['alpha', 'beta', 'gamma']);
    expect(second.stats).toMatchObject({ hits: 2, misses: 1 });
    const other = createCachedEmbedder({ model: 'other/model', embed, cache });
    await other.embed(['alpha']);
    expect(inputs).toEqual(['alpha', 'beta', 'gamma', 'alpha']);
  });

  it('refuses a wrong number of vectors or vectors of different lengths', async () => {
    const short = createCachedEmbedder({ model: 'm', embed: async () => [[1]], cache: false });
    await expect(short.embed(['a', 'b'])).rejects.toThrow(/returned 1 vectors for 2 texts/);
    const ragged = createCachedEmbedder({
      model: 'm',
      embed: async (texts) => texts.map((text) => new Array(text.length).fill(1)),
      cache: false,
    });
    await expect(ragged.embed(['a', 'bb'])).rejects.toThrow(/different lengths/);
  });

  it('stops between batches when aborted', async () => {
    const controller = new AbortController();
    const embedder = createCachedEmbedder({
      model: 'm',
      batchSize: 1,
      cache: false,
      embed: async (texts) => {
        controller.abort();
        return texts.map(() => [1, 0]);
      },
    });
    await expect(embedder.embed(['a', 'b'], { signal: controller.signal })).rejects.toMatchObject({
      status: 499,
    });
  });
});

describe('BoundedMap', () => {
  it('forgets the least recently used entry', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    map.get('a');
    map.set('c', 3);
    expect([...map.keys()]).toEqual(['a', 'c']);
  });
});
