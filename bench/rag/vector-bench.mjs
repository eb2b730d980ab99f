/** HNSW search: latency and QPS per ef, recall@10 against exact search, and overhead against raw hnswlib-node. */
import { exactTopK, median, normalizedMatrix, recallAgainst, round } from './measure.mjs';

/** Every chunk id of a collection with its vector recomputed by the (deterministic) embedder. */
export function collectionVectors(collection, embed) {
  const ids = [];
  const vectors = [];
  const total = collection.listDocuments({ limit: 1 }).total;
  for (let offset = 0; offset < total; offset += 1000) {
    for (const document of collection.listDocuments({ offset, limit: 1000 }).documents) {
      for (const chunk of collection.getDocument(document.id).chunks) {
        ids.push(chunk.id);
        vectors.push(embed(chunk.text));
      }
    }
  }
  return { ids, vectors };
}

/** The exact top-k ids (and scores) of each query, by brute force. */
export function exactNeighbours({ ids, vectors }, queries, k, dimensions) {
  const matrix = normalizedMatrix(vectors, dimensions);
  return queries.map((query) => {
    const { rows, scores } = exactTopK(matrix, dimensions, query, k);
    return { ids: rows.map((row) => ids[row]), scores };
  });
}

/** p50 latency, QPS and recall@k at each ef, through HnswIndex.search. */
export function efSweep(index, queries, exact, { efs = [50, 100, 200], k = 10 } = {}) {
  return efs.map((ef) => {
    for (const query of queries.slice(0, 50)) index.search(query, { k, ef }); // warm-up
    const latencies = [];
    const found = [];
    const started = performance.now();
    for (const query of queries) {
      const before = performance.now();
      found.push(index.search(query, { k, ef }));
      latencies.push(performance.now() - before);
    }
    const totalMs = performance.now() - started;
    const recall = recallAgainst(found, exact);
    return {
      ef,
      p50Us: round(median(latencies) * 1000, 1),
      qps: Math.round(queries.length / (totalMs / 1000)),
      recallAt10: round(recall.strict, 4),
      recallAt10WithTies: round(recall.withTies, 4),
    };
  });
}

/**
 * Per-query cost of each path on the same index at its ef, interleaved query by query (the order
 * rotates) so that background load hits every path alike: raw `searchKnn`, `HnswIndex.search`, the
 * collection's vector search given the query vector (validation, mapping to cited chunks), and the
 * retriever, which also looks the query's vector up in the embedding cache.
 */
export async function overheadAgainstRaw(
  collection,
  queries,
  queryTexts,
  retriever,
  { rounds = 5, k = 10 } = {},
) {
  const index = collection.vectorIndex;
  const native = index.native;
  native.setEf(index.options.ef);
  const signal = new AbortController().signal;
  const paths = {
    raw: async (at) => native.searchKnn(queries[at], k),
    index: async (at) => index.search(queries[at], { k }),
    collection: (at) => collection.search({ query: queryTexts[at], vector: queries[at], mode: 'vector', k }),
    retriever: (at) => retriever.doRetrieve(queryTexts[at], { k, signal, requestId: 'bench' }),
  };
  const names = Object.keys(paths);
  const totals = Object.fromEntries(names.map((name) => [name, 0]));
  for (let at = 0; at < queries.length; at++) for (const name of names) await paths[name](at); // warm-up
  for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
    for (let at = 0; at < queries.length; at++) {
      for (let step = 0; step < names.length; step++) {
        const name = names[(at + roundIndex + step) % names.length];
        const started = performance.now();
        await paths[name](at);
        totals[name] += performance.now() - started;
      }
    }
  }
  const perQuery = (name) => (totals[name] * 1000) / (rounds * queries.length);
  const raw = perQuery('raw');
  return {
    ef: index.options.ef,
    rawUsPerQuery: round(raw, 1),
    ...Object.fromEntries(
      names.slice(1).flatMap((name) => [
        [`${name}UsPerQuery`, round(perQuery(name), 1)],
        [`${name}Ratio`, round(perQuery(name) / raw, 3)],
      ]),
    ),
  };
}
