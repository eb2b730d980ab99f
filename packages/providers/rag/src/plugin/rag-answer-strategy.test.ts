import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatChunk, createFusion, type Fusion, UpstreamError } from '@fusionkit/core';
import { createMockProvider, type MockProvider } from '@fusionkit/core/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { citingReply, systemText } from '../__fixtures__/rag-fusion.js';
import { RagStore } from '../store/rag-store.js';
import { ragAnswerStrategy } from './rag-answer-strategy.js';

let directory: string;
let store: RagStore;
let fusion: Fusion;
let provider: MockProvider;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-answer-'));
  store = new RagStore({ dir: directory });
  const docs = await store.createCollection('docs');
  await docs.upsertDocuments([
    {
      id: 'ports',
      text: 'Ports below 1024 need root privileges.',
      uri: 'https://docs.test/ports',
      metadata: { lang: 'en' },
    },
    { id: 'fruit', text: 'Bananas are rich in potassium.', metadata: { lang: 'en' } },
    { id: 'ports-fr', text: 'Les ports sous 1024 exigent root.', metadata: { lang: 'fr' } },
  ]);
  provider = createMockProvider({
    id: 'mock',
    models: [
      { id: 'broken', error: new UpstreamError('upstream down', { status: 503 }) },
      { id: 'gen', reply: citingReply },
    ],
  });
  fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    resilience: { retry: { maxRetries: 0 } },
  });
  const strategy = ragAnswerStrategy({ collection: (name) => store.getCollection(name), k: 2 });
  fusion.registerPipeline({
    name: 'rag/docs',
    strategy,
    options: { collection: 'docs', mode: 'bm25' },
    targets: ['mock/broken', 'mock/gen'],
  });
});

afterEach(async () => {
  await fusion.close({ timeoutMs: 0 });
  await store.close();
  await rm(directory, { recursive: true, force: true });
});

describe('ragAnswerStrategy', () => {
  it('answers with the sources in the context and a citations array, falling back to the next target', async () => {
    const result = await fusion.chat({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
    });
    expect(result.choices[0]!.message.content).toBe('Ports below 1024 need root [1].');
    expect(result.citations).toEqual([
      expect.objectContaining({
        index: 1,
        document_id: 'ports',
        uri: 'https://docs.test/ports',
        cited: true,
      }),
      expect.objectContaining({ index: 2, cited: false }),
    ]);
    const generated = provider.calls.filter((call) => call.request.model === 'gen').at(-1)!;
    const system = systemText(generated.request as never);
    expect(system).toContain('[1] https://docs.test/ports\nPorts below 1024 need root privileges.');
    expect(system).toContain('[2]');
    expect(generated.request).not.toHaveProperty('rag');
  });

  it('streams with the citations on the first chunk', async () => {
    const chunks: ChatChunk[] = [];
    for await (const chunk of fusion.stream({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
    })) {
      chunks.push(chunk);
    }
    expect(chunks[0]!.citations).toEqual([
      expect.objectContaining({ index: 1, document_id: 'ports' }),
      expect.objectContaining({ index: 2 }),
    ]);
    expect(chunks.slice(1).some((chunk) => 'citations' in chunk)).toBe(false);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
      'Ports below 1024 need root [1].',
    );
  });

  it("takes k, mode and filter from the request's `rag` field, naming bad ones", async () => {
    const result = await fusion.chat({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'ports root' }],
      rag: { k: 1, filter: { lang: 'fr' } },
    });
    expect(result.citations).toEqual([expect.objectContaining({ document_id: 'ports-fr' })]);
    const bad = [
      [{ k: 0 }, 'rag.k'],
      [{ mode: 'fuzzy' }, 'rag.mode'],
      [{ filter: { lang: { $like: 'f%' } } }, 'rag.filter'],
      ['all', 'rag'],
    ] as const;
    for (const [rag, param] of bad) {
      await expect(
        fusion.chat({ model: 'rag/docs', messages: [{ role: 'user', content: 'q' }], rag }),
        param,
      ).rejects.toMatchObject({ status: 400, param });
    }
    await expect(
      fusion.chat({ model: 'rag/docs', messages: [{ role: 'system', content: 'no question' }] }),
    ).rejects.toMatchObject({ status: 400, param: 'messages' });
  });
});

describe('ragAnswerStrategy with a reranker', () => {
  it('retrieves candidates, lets the judge order them, answers from the best k, and traces the judge', async () => {
    const judged = createMockProvider({
      id: 'judge',
      // Whatever the order, the judge puts the passage about ports first.
      models: [
        {
          id: 'm',
          reply: (request) => {
            const prompt = String(request.messages[0]?.content ?? '');
            const ports = /\[(\d)\] Ports below/.exec(prompt)?.[1] ?? '1';
            return `{"ranking": [${ports}]}`;
          },
        },
      ],
    });
    await fusion.registerProvider(judged);
    fusion.registerPipeline({
      name: 'rag/reranked',
      strategy: ragAnswerStrategy({
        collection: (name) => store.getCollection(name),
        k: 1,
        rerank: { model: 'judge/m', candidates: 3 },
      }),
      options: { collection: 'docs', mode: 'bm25' },
      targets: ['mock/gen'],
    });
    let traceId = '';
    const result = await fusion.chat(
      { model: 'rag/reranked', messages: [{ role: 'user', content: 'root ports bananas' }] },
      { onTrace: (trace) => (traceId = trace.id) },
    );
    expect(result.citations).toEqual([expect.objectContaining({ index: 1, document_id: 'ports' })]);
    const trace = await fusion.traces.get(traceId);
    expect(trace?.calls.map((call) => call.role)).toContain('reranker');
    expect(trace?.decision).toMatchObject({ reranked: true });
  });
});
