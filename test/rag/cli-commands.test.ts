/**
 * `fusion ingest` and `fusion query` run in-process with a captured CLI context, as `runCli` runs
 * them: lexical only without a model, hybrid with an embedding model of an upstream.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestCommand, type RagCliContext } from '../../packages/cli/src/commands/ingest-command.js';
import { queryCommand } from '../../packages/cli/src/commands/query-command.js';
import { runCli } from '../../packages/cli/src/run-cli.js';
import {
  countWords,
  writeTinyTokenizer,
} from '../../packages/providers/rag/src/__fixtures__/tiny-tokenizer.js';
import { RagStore } from '../../packages/providers/rag/src/store/rag-store.js';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';

let cwd: string;
let upstream: MockUpstream;

interface Captured extends RagCliContext {
  /** Lines written to stdout. */
  results: string[];
  /** Lines written to stderr. */
  messages: string[];
}

function capture(env: Record<string, string> = {}): Captured {
  const context: Captured = {
    cwd,
    env,
    results: [],
    messages: [],
    out: (line) => context.results.push(line),
    log: (line) => context.messages.push(line),
  };
  return context;
}

beforeAll(async () => {
  upstream = await startMockUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-cli-rag-'));
  await mkdir(join(cwd, 'docs', 'guide'), { recursive: true });
  await writeFile(
    join(cwd, 'docs', 'guide', 'install.md'),
    '# Guide\n\n## Install on Linux\n\nRun the installer as root; ports below 1024 need it.\n',
  );
  await writeFile(join(cwd, 'docs', 'faq.md'), '# FAQ\n\n## Fruit\n\nBananas are rich in potassium.\n');
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('fusion ingest and fusion query, in-process', () => {
  it('ingests a folder lexical-only without a model, then queries it with sources', async () => {
    const ingest = capture();
    expect(await ingestCommand(ingest, { inputs: ['docs'], collection: 'docs' })).toBe(0);
    expect(ingest.messages[0]).toBe(
      "created collection 'docs' in .fusion/rag/docs: lexical only (BM25); pass --embedding-model ID for vector search",
    );
    // Not a terminal: plain progress lines.
    expect(ingest.messages[1]).toMatch(/^2\/2 files · \d+ chunks · [\d.]+ chunks\/s · [\d.]+s$/);
    expect(ingest.results).toEqual([
      expect.stringMatching(
        /^ingested 2 sources \(2 documents\) into 'docs': 2 added, 0 updated, 0 unchanged; \d+ chunks added, 0 removed in [\d.]+s \(lexical only\)$/,
      ),
    ]);

    const again = capture();
    expect(await ingestCommand(again, { inputs: ['docs/'], collection: 'docs' })).toBe(0);
    expect(again.messages[0]).toMatch(/^collection 'docs'/);
    expect(again.results[0]).toContain('0 added, 0 updated, 2 unchanged');

    const query = capture();
    expect(await queryCommand(query, { query: 'which ports need root?', collection: 'docs', k: '2' })).toBe(
      0,
    );
    expect(query.messages).toEqual(["1 result from 'docs' (bm25, lexical-only collection)"]);
    expect(query.results[0]).toMatch(
      /^1\. docs\/guide\/install\.md › Guide › Install on Linux {2}\(score [\d.]+ {2}chars \d+-\d+\)$/,
    );
    expect(query.results[1]).toContain('ports below 1024 need it');

    const json = capture();
    expect(await queryCommand(json, { query: 'bananas', collection: 'docs', json: true })).toBe(0);
    const hits = JSON.parse(json.results.join('\n')) as { rank: number; documentId: string }[];
    expect(hits).toEqual([
      expect.objectContaining({ rank: 1, documentId: expect.stringMatching(/faq\.md$/) }),
    ]);
  });

  it('draws a progress bar on a terminal', async () => {
    let drawn = '';
    const terminal: Captured = {
      ...capture(),
      stderr: { isTTY: true, columns: 100, write: (text) => (drawn += text) },
    };
    expect(await ingestCommand(terminal, { inputs: ['docs'], collection: 'bar' })).toBe(0);
    // Redrawn in place (carriage return, clear line), the last state kept with a newline.
    const frames = drawn.split('\r\x1b[K').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(1);
    expect(frames.at(-1)).toMatch(/^\[█{30}\] 2\/2 files · \d+ chunks · [\d.]+ chunks\/s · [\d.]+s\n$/);
    for (const frame of frames.slice(0, -1)) expect(frame).toMatch(/^\[[█░]{30}\] \d\/2 files .* ETA /);
  });

  it('embeds with --embedding-model from the upstreams, and queries hybrid', async () => {
    const env = { FUSION_UPSTREAMS: `lab=${upstream.baseURL}` };
    const ingest = capture(env);
    const code = await ingestCommand(ingest, {
      inputs: ['docs/guide/install.md', 'docs/faq.md'],
      collection: 'vectors',
      embeddingModel: 'lab/bge-small-en',
    });
    expect(code, ingest.messages.join('\n')).toBe(0);
    expect(ingest.messages[0]).toContain('BM25 + vectors from lab/bge-small-en');
    expect(upstream.requests.some((request) => request.path === '/v1/embeddings')).toBe(true);

    const query = capture(env);
    expect(await queryCommand(query, { query: 'bananas', collection: 'vectors', k: 1 })).toBe(0);
    expect(query.messages).toEqual(["1 result from 'vectors' (hybrid)"]);
    expect(query.results[0]).toMatch(/^1\. docs\/faq\.md › FAQ › Fruit/);

    // Without the upstream, the same collection is searched lexically, and says so.
    const offline = capture();
    expect(await queryCommand(offline, { query: 'bananas', collection: 'vectors' })).toBe(0);
    expect(offline.messages[0]).toBe(
      "'vectors' has vectors from 'lab/bge-small-en', but no upstream or provider of the config serves 'lab/bge-small-en' (fusion models lists them): searching lexically (BM25).",
    );
    expect(offline.results[0]).toMatch(/faq\.md/);
    const forced = capture();
    expect(await queryCommand(forced, { query: 'bananas', collection: 'vectors', mode: 'vector' })).toBe(1);
    expect(forced.messages[0]).toMatch(/^fusion query: --mode vector needs embeddings/);
  });

  it('says what is wrong: usage, missing paths, unknown collections, unknown models, bad filters', async () => {
    const usage = capture();
    expect(await ingestCommand(usage, { inputs: ['docs'] })).toBe(2);
    expect(usage.messages[0]).toMatch(/^usage: fusion ingest/);
    const missing = capture();
    expect(await ingestCommand(missing, { inputs: ['nope'], collection: 'docs' })).toBe(1);
    expect(missing.messages).toEqual(['fusion ingest: No such file or folder: nope']);
    const noModel = capture();
    expect(
      await ingestCommand(noModel, { inputs: ['docs'], collection: 'v', embeddingModel: 'lab/none' }),
    ).toBe(1);
    expect(noModel.messages[0]).toMatch(/needs embeddings from 'lab\/none', but no upstream/);

    const unknown = capture();
    expect(await queryCommand(unknown, { query: 'x', collection: 'nope' })).toBe(1);
    expect(unknown.messages[0]).toBe(
      "fusion query: no collection 'nope' in .fusion/rag; create it with: fusion ingest <path> --collection nope",
    );
    await ingestCommand(capture(), { inputs: ['docs'], collection: 'docs' });
    const badFilter = capture();
    expect(
      await queryCommand(badFilter, { query: 'x', collection: 'docs', filter: '{"a":{"$regex":"x"}}' }),
    ).toBe(1);
    expect(badFilter.messages[0]).toMatch(/^fusion query: Invalid filter: unknown operator '\$regex'/);
    const badK = capture();
    expect(await queryCommand(badK, { query: 'x', collection: 'docs', k: 'ten' })).toBe(2);
    expect(badK.messages[0]).toMatch(/--k must be an integer/);
    const noQuery = capture();
    expect(await queryCommand(noQuery, { collection: 'docs' })).toBe(2);
  });

  it('splits by tokens with --splitter token --tokenizer, recorded for later ingests', async () => {
    const manifest = async () =>
      JSON.parse(await readFile(join(cwd, '.fusion', 'rag', 'tok', 'manifest.json'), 'utf8')).config.splitter;
    const first = capture();
    const argv = ['ingest', 'docs/faq.md', '--collection', 'tok', '--splitter', 'token'];
    expect(await runCli([...argv, '--tokenizer', 'gpt-4o', '--chunk-size', '20'], first)).toBe(0);
    expect(await manifest()).toEqual({ kind: 'token', tokenizer: 'gpt-4o', chunkSize: 20, chunkOverlap: 4 });

    // A later ingest, with other flags or none, splits as the collection records.
    const later = capture();
    expect(
      await ingestCommand(later, { inputs: ['docs/guide'], collection: 'tok', splitter: 'recursive' }),
    ).toBe(0);
    expect(later.messages[0]).toBe(
      "collection 'tok' splits token (gpt-4o), chunks of 20 with 4 overlap: the splitter flags are not used.",
    );
    expect(await manifest()).toMatchObject({ kind: 'token', chunkSize: 20 });

    const unknown = capture();
    expect(
      await runCli([...argv.slice(0, 3), 'other', '--splitter', 'token', '--tokenizer', 'nope'], unknown),
    ).toBe(2);
    expect(unknown.messages.at(-1)).toMatch(/^fusion ingest: --tokenizer: Unknown tokenizer "nope"/);
    const noTokenizer = capture();
    expect(await runCli([...argv.slice(0, 3), 'other', '--splitter', 'token'], noTokenizer)).toBe(2);
    expect(noTokenizer.messages.at(-1)).toMatch(/^fusion ingest: --tokenizer: /);
    const badSize = capture();
    expect(await runCli([...argv, '--tokenizer', 'gpt-4o', '--chunk-size', 'ten'], badSize)).toBe(1);
    expect(badSize.messages.at(-1)).toBe("fusion ingest: --chunk-size must be a whole number, not 'ten'");
  });

  it('splits with a local Hugging Face tokenizer.json given as a model folder, recorded by its absolute path', async () => {
    const file = await writeTinyTokenizer(join(cwd, 'models', 'tiny'), ['bananas', 'are', 'rich', 'in']);
    const long = Array.from({ length: 40 }, (_, index) => `Fact ${index} is true.`).join(' ');
    await writeFile(join(cwd, 'docs', 'facts.txt'), long);
    const argv = ['ingest', 'docs/facts.txt', '--collection', 'hf', '--splitter', 'token'];
    const first = capture();
    expect(await runCli([...argv, '--tokenizer', 'models/tiny', '--chunk-size', '20'], first)).toBe(0);
    const manifest = JSON.parse(await readFile(join(cwd, '.fusion', 'rag', 'hf', 'manifest.json'), 'utf8'));
    expect(manifest.config.splitter).toEqual({
      kind: 'token',
      tokenizer: file,
      chunkSize: 20,
      chunkOverlap: 4,
    });
    const store = new RagStore({ dir: join(cwd, '.fusion') });
    const chunks = (await store.getCollection('hf')).getDocument('file:docs/facts.txt')!.chunks;
    await store.close();
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(countWords(chunk.text)).toBeLessThanOrEqual(20);

    // The same folder again, as the file itself or relative: the recorded splitter, no warning.
    const again = capture();
    const flags = ['--tokenizer', './models/tiny/tokenizer.json', '--chunk-size', '20'];
    expect(await runCli([...argv.slice(0, 1), 'docs/faq.md', ...argv.slice(2), ...flags], again)).toBe(0);
    expect(again.messages.join('\n')).not.toContain('not used');

    const missing = capture();
    expect(
      await runCli(
        [...argv.slice(0, 3), 'other', '--splitter', 'token', '--tokenizer', 'models/none'],
        missing,
      ),
    ).toBe(2);
    expect(missing.messages.at(-1)).toMatch(
      /^fusion ingest: --tokenizer: No tokenizer file at "models\/none"/,
    );
    await writeFile(join(cwd, 'models', 'broken.json'), '{ "model": ');
    const broken = capture();
    expect(
      await runCli(
        [...argv.slice(0, 3), 'other', '--splitter', 'token', '--tokenizer', 'models/broken.json'],
        broken,
      ),
    ).toBe(2);
    expect(broken.messages.at(-1)).toBe(
      'fusion ingest: --tokenizer: broken.json is not valid JSON: give a Hugging Face tokenizer.json.',
    );
  });
});
