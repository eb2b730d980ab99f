/**
 * RAG bench: `npm run bench:rag` (builds first) or `node bench/rag/run.mjs [--random-vectors N]`.
 *
 * Measures, with the built @fusionkit/rag (packages/providers/rag/dist):
 *   1. BM25 quality on SciFact's 300 test queries (nDCG@10, recall@100, BEIR definitions) and speed;
 *   2. ingest rate of the whole corpus through `collection.ingest`, lexical only and with vectors;
 *   3. HNSW search (p50, QPS, recall@10 vs exact) at ef 50/100/200 for ~50k SciFact sentence chunks
 *      embedded with hashed 384-d bag-of-words vectors, and for 100k random 384-d vectors;
 *   4. `HnswIndex.search` and the retriever against raw hnswlib-node `searchKnn` on the same index;
 *   5. load time of a 100k-chunk collection;
 *   6. storage at ~100k SciFact sentence chunks (256-d): add and delete one document, load against raw
 *      hnswlib-node `readIndex` plus reading the chunk texts, peak RSS (storage-bench.mjs).
 * SciFact (CC BY-NC) is read from ../shared/datasets/scifact next to the repository, or SCIFACT_DIR.
 * Prints markdown tables and writes bench/results/rag.json. A benchmark, not a test: MISS exits 0.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchBm25Index, benchCollectionBm25 } from './bm25-bench.mjs';
import { hashedVectors, randomVectors, sentenceSplitter } from './embedders.mjs';
import { ingestCollection, instrumentHnswAdds } from './ingest-bench.mjs';
import { round, timed } from './measure.mjs';
import { machineInfo, markdownReport, writeResults } from './report.mjs';
import { loadScifact, scifactDirectory } from './scifact.mjs';
import { benchStorage, storageReport } from './storage-bench.mjs';
import { collectionVectors, efSweep, exactNeighbours, overheadAgainstRaw } from './vector-bench.mjs';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const argument = process.argv.indexOf('--random-vectors');
const randomCount = argument > 0 ? Number(process.argv[argument + 1]) : 100_000;
const log = (message) => process.stderr.write(`[bench:rag] ${message}\n`);

const benchDirectory = fileURLToPath(new URL('.', import.meta.url));
const libraryUrl = pathToFileURL(join(repoRoot, 'packages/providers/rag/dist/index.js')).href;
const lib = await import(libraryUrl);
const directory = await mkdtemp(join(tmpdir(), 'fusion-rag-bench-'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    rmSync(directory, { recursive: true, force: true });
    process.exit(130);
  });
}
const hnswAdds = instrumentHnswAdds(lib);
const dimensions = 384;

/**
 * Load times measured in a fresh process (see load-child.mjs), then the collection opened here in a
 * new store, as a restarted process would, for the search runs.
 */
async function loadTimes(name, embed) {
  const child = execFileSync(process.execPath, [
    join(benchDirectory, 'load-child.mjs'),
    libraryUrl,
    directory,
    name,
  ]);
  const fresh = JSON.parse(child.toString());
  const rag = new lib.RagStore({ dir: directory, embed: async (texts) => texts.map(embed) });
  const { result: collection, ms } = await timed(() => rag.getCollection(name));
  return {
    collection,
    collectionLoadMs: round(fresh.collectionLoadMs, 1),
    indexLoadMs: round(fresh.indexLoadMs, 1),
    inProcessLoadMs: round(ms, 1),
  };
}

try {
  const scifact = loadScifact(scifactDirectory(repoRoot));
  const hashed = hashedVectors(lib.createEnglishAnalyzer(), dimensions);
  const sentences = scifact.corpus.map((document) => ({
    id: document._id,
    title: document.title,
    text: `${document.title}\n${document.text}`,
  }));

  log('BM25 on SciFact');
  const bm25 = benchBm25Index(lib, scifact);
  const whole = scifact.corpus.map((document) => ({
    id: document._id,
    title: document.title,
    text: document.text,
  }));
  const lexical = await ingestCollection(lib, { directory, name: 'scifact-lexical', documents: whole });
  const collectionBm25 = await benchCollectionBm25(lexical.collection, scifact);
  log('lexical ingest of sentence chunks');
  const lexicalSentences = await ingestCollection(lib, {
    directory,
    name: 'scifact-sentences-lexical',
    documents: sentences,
    splitter: sentenceSplitter,
  });

  log('ingest of SciFact sentence chunks with HNSW (about a minute)');
  const vectorSentences = await ingestCollection(lib, {
    directory,
    name: 'scifact-sentences',
    documents: sentences,
    splitter: sentenceSplitter,
    embed: hashed,
    dimensions,
    hnswAdds,
  });
  const scifactLoad = await loadTimes('scifact-sentences', hashed);
  const sciCollection = scifactLoad.collection;
  const queryTexts = [...scifact.queries.values()];
  const queryVectors = queryTexts.map(hashed);
  log(`exact search for ${queryVectors.length} queries over ${sciCollection.info().chunks} vectors`);
  const sciExact = exactNeighbours(collectionVectors(sciCollection, hashed), queryVectors, 10, dimensions);
  const sciSweep = efSweep(sciCollection.vectorIndex, queryVectors, sciExact);
  const retriever = lib.createCollectionRetriever({ collection: sciCollection, mode: 'vector' });
  const overhead = await overheadAgainstRaw(sciCollection, queryVectors, queryTexts, retriever);

  log(`ingest of ${randomCount} random 384-d vectors (a few minutes)`);
  const random = randomVectors(dimensions);
  const perDocument = 10;
  const randomDocuments = Array.from(
    { length: Math.ceil(randomCount / perDocument) },
    (_, documentIndex) => ({
      id: `r${documentIndex}`,
      text: Array.from(
        { length: perDocument },
        (_, sentence) =>
          `Record ${documentIndex} line ${sentence} value ${(documentIndex * 31 + sentence * 7) % 997}.`,
      ).join('\n'),
    }),
  );
  const randomIngest = await ingestCollection(lib, {
    directory,
    name: 'random',
    documents: randomDocuments,
    splitter: sentenceSplitter,
    embed: random,
    dimensions,
    hnswAdds,
  });
  const randomLoad = await loadTimes('random', random);
  const randomQueries = Array.from({ length: 200 }, (_, index) => random(`query ${index}`));
  const randomExact = exactNeighbours(
    collectionVectors(randomLoad.collection, random),
    randomQueries,
    10,
    dimensions,
  );
  const randomSweep = efSweep(randomLoad.collection.vectorIndex, randomQueries, randomExact);

  const storage = await benchStorage(lib, { libraryUrl, directory, scifact, log });

  const results = {
    machine: machineInfo(),
    storage,
    embedders: {
      scifact:
        'hashed bag-of-words: Porter2-stemmed terms, ±(1 + ln tf) at an FNV-1a coordinate, 384-d, unit length',
      random: 'seeded Gaussian 384-d (mulberry32 + Box-Muller per chunk text)',
    },
    bm25,
    collectionBm25,
    ingest: {
      lexical: lexical.result,
      lexicalSentences: lexicalSentences.result,
      vectorSentences: vectorSentences.result,
      random: randomIngest.result,
    },
    scifactVectors: {
      vectors: sciCollection.info().chunks,
      queries: queryVectors.length,
      sweep: sciSweep,
      overhead,
      collectionLoadMs: scifactLoad.collectionLoadMs,
      indexLoadMs: scifactLoad.indexLoadMs,
      inProcessLoadMs: scifactLoad.inProcessLoadMs,
    },
    randomVectors: {
      vectors: randomLoad.collection.info().chunks,
      queries: randomQueries.length,
      sweep: randomSweep,
      collectionLoadMs: randomLoad.collectionLoadMs,
      indexLoadMs: randomLoad.indexLoadMs,
      inProcessLoadMs: randomLoad.inProcessLoadMs,
    },
  };
  console.log(markdownReport(results));
  console.log(`\n${storageReport(storage)}`);
  writeResults(join(repoRoot, 'bench/results/rag.json'), results);
  log('wrote bench/results/rag.json');
} finally {
  await rm(directory, { recursive: true, force: true });
}
