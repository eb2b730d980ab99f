/** The markdown table of the RAG bench and its JSON results file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';

const check = (value, target, higherIsBetter = true) =>
  (higherIsBetter ? value >= target : value <= target) ? 'PASS' : 'MISS';

function sweepRows(label, sweep) {
  return sweep.map(
    (row) =>
      `| ${label} | ${row.ef} | ${row.p50Us} | ${row.qps} | ${row.recallAt10} | ${row.recallAt10WithTies} |`,
  );
}

/** Markdown tables of every measurement, with PASS/MISS against the targets. */
export function markdownReport(results) {
  const { bm25, collectionBm25, ingest, scifactVectors, randomVectors } = results;
  const overhead = scifactVectors.overhead;
  const lines = [
    '### BM25 on SciFact test (300 queries, BEIR definitions)',
    '| index | nDCG@10 | recall@100 | index time | query mean / p50 | target |',
    '|---|---|---|---|---|---|',
    `| Bm25Index, ${bm25.documents} docs (title + text) | ${bm25.ndcgAt10} | ${bm25.recallAt100} | ${bm25.indexMs} ms (${bm25.documentsPerSecond} docs/s) | ${bm25.queryMsMean} / ${bm25.queryMsP50} ms | nDCG@10 ≥ 0.665: ${check(bm25.ndcgAt10, 0.665)} |`,
    `| collection, ${ingest.lexical.chunks} chunks of ≤ 1000 chars, doc = best chunk | ${collectionBm25.ndcgAt10} | ${collectionBm25.recallAt100} | | | |`,
    '',
    '### Ingest (whole SciFact corpus through `collection.ingest`, commits included)',
    '| run | documents | chunks | seconds | chunks/s | HNSW inserts/s |',
    '|---|---|---|---|---|---|',
    `| lexical only, 1000-char chunks | ${ingest.lexical.documents} | ${ingest.lexical.chunks} | ${ingest.lexical.seconds} | ${ingest.lexical.chunksPerSecond} | |`,
    `| lexical only, sentence chunks | ${ingest.lexicalSentences.documents} | ${ingest.lexicalSentences.chunks} | ${ingest.lexicalSentences.seconds} | ${ingest.lexicalSentences.chunksPerSecond} | |`,
    `| BM25 + HNSW (hashed 384-d), sentence chunks | ${ingest.vectorSentences.documents} | ${ingest.vectorSentences.chunks} | ${ingest.vectorSentences.seconds} | ${ingest.vectorSentences.chunksPerSecond} | ${ingest.vectorSentences.hnswInsertsPerSecond} |`,
    `| BM25 + HNSW (random 384-d), synthetic | ${ingest.random.documents} | ${ingest.random.chunks} | ${ingest.random.seconds} | ${ingest.random.chunksPerSecond} | ${ingest.random.hnswInsertsPerSecond} |`,
    '',
    '### HNSW search (M 16, efConstruction 200, k 10, single thread; recall against exact search)',
    '| vectors | ef | p50 µs | QPS | recall@10 | recall@10, ties counted |',
    '|---|---|---|---|---|---|',
    ...sweepRows(`SciFact sentences, ${scifactVectors.vectors} × hashed 384-d`, scifactVectors.sweep),
    ...sweepRows(`random Gaussian, ${randomVectors.vectors} × 384-d`, randomVectors.sweep),
    '',
    `### Cost against raw hnswlib-node \`searchKnn\` on the same index (ef ${overhead.ef}, ${scifactVectors.queries} queries × 5 rounds, interleaved per query)`,
    '| path | µs/query | ratio | target |',
    '|---|---|---|---|',
    `| raw \`searchKnn\` | ${overhead.rawUsPerQuery} | 1 | |`,
    `| \`HnswIndex.search\` | ${overhead.indexUsPerQuery} | ${overhead.indexRatio} | ≤ 1.2: ${check(overhead.indexRatio, 1.2, false)} |`,
    `| \`collection.search\` vector mode, query vector given (cited chunks) | ${overhead.collectionUsPerQuery} | ${overhead.collectionRatio} | ≤ 1.2: ${check(overhead.collectionRatio, 1.2, false)} |`,
    `| retriever \`doRetrieve\` (+ query vector from the embedding cache) | ${overhead.retrieverUsPerQuery} | ${overhead.retrieverRatio} | |`,
    '',
    '### Load on start (fresh process; in the bench process, with its large heap, in parentheses)',
    '| what | ms | target |',
    '|---|---|---|',
    `| collection, ${randomVectors.vectors} chunks (store + BM25 + HNSW) | ${randomVectors.collectionLoadMs} (${randomVectors.inProcessLoadMs}) | ≤ 1000: ${check(randomVectors.collectionLoadMs, 1000, false)} |`,
    `| HnswIndex.load, ${randomVectors.vectors} vectors + id map | ${randomVectors.indexLoadMs} | |`,
    `| collection, ${scifactVectors.vectors} SciFact sentence chunks | ${scifactVectors.collectionLoadMs} (${scifactVectors.inProcessLoadMs}) | |`,
    `| HnswIndex.load, ${scifactVectors.vectors} vectors + id map | ${scifactVectors.indexLoadMs} | |`,
  ];
  return lines.join('\n');
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: cpus.length,
    cpu: cpus[0]?.model,
  };
}

export function writeResults(path, results) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
