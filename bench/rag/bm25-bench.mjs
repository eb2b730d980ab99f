/** BM25 quality and speed on SciFact: the index alone, and a chunked collection ranked by best chunk. */

import { median, round } from './measure.mjs';
import { evaluate } from './scifact.mjs';

/** Bm25Index over whole documents (`title text`), as BEIR's BM25 baselines index them. */
export function benchBm25Index(lib, scifact) {
  const index = new lib.Bm25Index();
  const started = performance.now();
  for (const document of scifact.corpus) index.add(document._id, `${document.title} ${document.text}`);
  const indexMs = performance.now() - started;
  const rank = (query) => index.search(query, { k: 100 }).map((hit) => hit.id);
  evaluate(scifact, rank); // warm-up: JIT and the stem cache
  const quality = evaluate(scifact, rank);
  return {
    documents: index.size,
    indexMs: round(indexMs, 1),
    documentsPerSecond: Math.round(index.size / (indexMs / 1000)),
    ndcgAt10: round(quality.ndcgAt10, 4),
    recallAt100: round(quality.recallAt100, 4),
    queryMsMean: round(quality.times.reduce((sum, ms) => sum + ms, 0) / quality.times.length, 3),
    queryMsP50: round(median(quality.times), 3),
  };
}

/** A collection's BM25 search over chunks, each document ranked by its best chunk. */
export async function benchCollectionBm25(collection, scifact) {
  const rankings = new Map();
  for (const [queryId] of scifact.qrels) {
    const hits = await collection.search({ query: scifact.queries.get(queryId), mode: 'bm25', k: 400 });
    rankings.set(queryId, [...new Set(hits.map((hit) => hit.documentId))]);
  }
  const queryText = new Map([...scifact.qrels.keys()].map((id) => [scifact.queries.get(id), id]));
  const quality = evaluate(scifact, (query) => rankings.get(queryText.get(query)));
  return { ndcgAt10: round(quality.ndcgAt10, 4), recallAt100: round(quality.recallAt100, 4) };
}
