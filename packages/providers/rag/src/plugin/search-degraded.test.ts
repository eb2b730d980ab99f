import { UnavailableError } from '@fusionkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;

/** Embeds with a hash until `down` is set, then fails as an unreachable embedding server does. */
function flakyEmbed() {
  const state = { down: false };
  const embed = async (texts: string[]) => {
    if (state.down) throw new UnavailableError("The embedding model 'mock/embed' is unreachable.");
    return texts.map((text) =>
      Array.from({ length: 8 }, (_, index) => ((text.charCodeAt(index) || 1) % 7) + 1),
    );
  };
  return { embed, state };
}

describe('search when the embedding model is down', () => {
  it('answers a default (hybrid) search from BM25, says so, and tells the event bus', async () => {
    const flaky = flakyEmbed();
    const rag = (fixture = await createRagFusion({ embed: flaky.embed }));
    const ingested = await rag.json('POST', '/api/rag/ingest', {
      collection: 'docs',
      create: true,
      paths: ['.'],
      async: false,
    });
    expect(ingested.status).toBe(200);
    flaky.state.down = true;
    const events: Json[] = [];
    rag.fusion.events.on('strategy:event', (event) => events.push(event as unknown as Json));
    const search = await rag.json<Json>('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports root',
    });
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({
      mode: 'hybrid',
      degraded: { mode: 'bm25', reason: expect.stringContaining('unavailable') },
      data: [expect.objectContaining({ text: expect.stringContaining('1024') })],
    });
    expect(events).toEqual([
      expect.objectContaining({
        strategy: 'rag',
        name: 'retrieval:degraded',
        data: expect.objectContaining({ collection: 'docs' }),
      }),
    ]);
    // A search that asked for vectors alone cannot be answered without them.
    const vector = await rag.json<{ error: Json }>('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports root',
      mode: 'vector',
    });
    expect(vector.status).toBe(503);
  });
});

describe('search fields', () => {
  it('refuses a number given as a string in JSON (400 naming the field), and takes it in a query string', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/ingest', {
      collection: 'docs',
      create: true,
      paths: ['.'],
      async: false,
    });
    const search = await rag.json<{ error: Json }>('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports',
      k: '5',
    });
    expect(search).toMatchObject({ status: 400, body: { error: { param: 'k' } } });
    const listed = await rag.json('GET', '/api/rag/documents?collection=docs&limit=1');
    expect(listed.status).toBe(200);
  });

  it('answers rag/<collection> from BM25 and says so: result, first stream chunk, /api/rag/answer, bus', async () => {
    const flaky = flakyEmbed();
    const rag = (fixture = await createRagFusion({ embed: flaky.embed }));
    await rag.json('POST', '/api/rag/ingest', {
      collection: 'docs',
      create: true,
      paths: ['.'],
      async: false,
    });
    flaky.state.down = true;
    const events: Json[] = [];
    rag.fusion.events.on('strategy:event', (event) => events.push(event as unknown as Json));
    const question = { model: 'rag/docs', messages: [{ role: 'user', content: 'Which ports need root?' }] };
    const degraded = { mode: 'bm25', reason: expect.stringContaining('unavailable') };

    const chat = await rag.json<Json>('POST', '/v1/chat/completions', question);
    expect(chat.status).toBe(200);
    expect(chat.body).toMatchObject({ degraded, citations: [expect.objectContaining({ cited: true })] });
    expect(events).toEqual([
      expect.objectContaining({
        name: 'retrieval:degraded',
        data: expect.objectContaining({ collection: 'docs', mode: 'bm25' }),
      }),
    ]);

    const streamed = await rag.request('POST', '/v1/chat/completions', { ...question, stream: true });
    const first = (await streamed.text())
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)) as Json)
      .find((chunk) => 'citations' in chunk);
    expect(first).toMatchObject({ degraded });

    const answer = await rag.json<Json>('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'Which ports need root?',
    });
    expect(answer).toMatchObject({ status: 200, body: { degraded } });

    // With the model back, no word of it.
    flaky.state.down = false;
    expect((await rag.json<Json>('POST', '/v1/chat/completions', question)).body).not.toHaveProperty(
      'degraded',
    );
  });
});
