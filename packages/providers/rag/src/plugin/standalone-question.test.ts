import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatRequest, createFusion, type Fusion } from '@fusionkit/core';
import { createMockProvider, type MockProvider } from '@fusionkit/core/test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { citingReply, systemText } from '../__fixtures__/rag-fusion.js';
import type { Collection } from '../store/collection.js';
import { RagStore } from '../store/rag-store.js';
import { ragAnswerStrategy } from './rag-answer-strategy.js';
import { DEFAULT_REWRITE_PROMPT } from './standalone-question.js';

let directory: string;
let store: RagStore;
let fusion: Fusion;
let provider: MockProvider;
let docs: Collection;
let searched: string[];
let rewriterFails = false;

const isRewrite = (request: ChatRequest) => systemText(request) === DEFAULT_REWRITE_PROMPT;

/** A follow-up that names nothing: searched as it is, it finds nothing about ports. */
const conversation: ChatRequest['messages'] = [
  { role: 'user', content: 'I run a web server. What should I know about ports?' },
  { role: 'assistant', content: 'Which aspect of ports: numbers, firewalls or privileges?' },
  { role: 'user', content: 'The last one.' },
];

async function setup(rewrite: boolean) {
  fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    resilience: { retry: { maxRetries: 0 } },
  });
  fusion.registerPipeline({
    name: 'rag/docs',
    strategy: ragAnswerStrategy({ collection: (name) => store.getCollection(name), k: 1, rewrite }),
    options: { collection: 'docs', mode: 'bm25' },
    targets: ['mock/gen'],
  });
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-rewrite-'));
  store = new RagStore({ dir: directory });
  docs = await store.createCollection('docs');
  await docs.upsertDocuments([
    { id: 'ports', text: 'Ports below 1024 need root privileges.' },
    { id: 'last', text: 'The last one standing wins the game.' },
  ]);
  searched = [];
  const search = docs.search.bind(docs);
  vi.spyOn(docs, 'search').mockImplementation((request) => {
    searched.push(request.query);
    return search(request);
  });
  rewriterFails = false;
  provider = createMockProvider({
    id: 'mock',
    models: [
      {
        id: 'gen',
        reply: (request) => {
          if (!isRewrite(request)) return citingReply(request);
          if (rewriterFails) throw new Error('rewriter down');
          const transcript = String(request.messages[1]?.content);
          return transcript.includes('The last one.') ? '"Which ports need root privileges?"' : 'unexpected';
        },
      },
    ],
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await fusion.close({ timeoutMs: 0 });
  await store.close();
  await rm(directory, { recursive: true, force: true });
});

const rewriteCalls = () => provider.calls.filter((call) => isRewrite(call.request as ChatRequest));

describe('the standalone-question rewrite of rag/<collection>', () => {
  it('is off by default: the last user message alone is searched', async () => {
    await setup(false);
    const result = await fusion.chat({ model: 'rag/docs', messages: conversation });
    expect(searched).toEqual(['The last one.']);
    expect(rewriteCalls()).toHaveLength(0);
    expect((result.citations as unknown[] | undefined)?.[0]).toMatchObject({ document_id: 'last' });
  });

  it('on, one generator call makes a standalone question of the history, and that is searched', async () => {
    await setup(true);
    const result = await fusion.chat({ model: 'rag/docs', messages: conversation });
    expect(rewriteCalls()).toHaveLength(1);
    const transcript = String((rewriteCalls()[0]!.request as ChatRequest).messages[1]!.content);
    expect(transcript).toBe(
      'User: I run a web server. What should I know about ports?\n\nAssistant: Which aspect of ports: numbers, firewalls or privileges?\n\nUser: The last one.',
    );
    expect(searched).toEqual(['Which ports need root privileges?']);
    expect((result.citations as unknown[] | undefined)?.[0]).toMatchObject({
      document_id: 'ports',
      cited: true,
    });
    expect(result.choices[0]!.message.content).toBe('Ports below 1024 need root [1].');
    // The generator still answers the whole conversation.
    const answered = provider.calls.filter((call) => !isRewrite(call.request as ChatRequest)).at(-1)!;
    expect((answered.request as ChatRequest).messages.slice(1)).toEqual(conversation);
    // Streams rewrite too.
    searched = [];
    for await (const _chunk of fusion.stream({ model: 'rag/docs', messages: conversation })) {
      // drain
    }
    expect(searched).toEqual(['Which ports need root privileges?']);
  });

  it('leaves a single question alone, follows the request’s rag.rewrite, and falls back when the rewrite fails', async () => {
    await setup(true);
    await fusion.chat({ model: 'rag/docs', messages: [{ role: 'user', content: 'Which ports need root?' }] });
    expect(rewriteCalls()).toHaveLength(0);
    expect(searched).toEqual(['Which ports need root?']);

    searched = [];
    await fusion.chat({ model: 'rag/docs', messages: conversation, rag: { rewrite: false } });
    expect(searched).toEqual(['The last one.']);

    searched = [];
    rewriterFails = true;
    const result = await fusion.chat({ model: 'rag/docs', messages: conversation });
    expect(searched).toEqual(['The last one.']);
    expect(result.choices[0]!.message.content).toBeTruthy();

    const bad = await fusion
      .chat({ model: 'rag/docs', messages: conversation, rag: { rewrite: 'yes' } })
      .catch((error: unknown) => error);
    expect(bad).toMatchObject({ status: 400, param: 'rag.rewrite' });
  });

  it('is turned on per request when the pipeline has it off', async () => {
    await setup(false);
    await fusion.chat({ model: 'rag/docs', messages: conversation, rag: { rewrite: true } });
    expect(searched).toEqual(['Which ports need root privileges?']);
  });
});
