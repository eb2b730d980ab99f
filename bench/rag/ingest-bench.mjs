/** Ingests through the public API (RagStore → Collection.ingest), timing the HNSW inserts inside it. */
import { round } from './measure.mjs';

/** Wraps HnswIndex.prototype.add to add up the time spent inserting vectors. */
export function instrumentHnswAdds(lib) {
  const original = lib.HnswIndex.prototype.add;
  const counter = { ms: 0, count: 0 };
  lib.HnswIndex.prototype.add = function add(id, vector) {
    const started = performance.now();
    try {
      return original.call(this, id, vector);
    } finally {
      counter.ms += performance.now() - started;
      counter.count++;
    }
  };
  return counter;
}

/**
 * Ingests documents into a new collection and reports chunks per second (everything: loading,
 * splitting, embedding, BM25, HNSW, atomic commits) and, with vectors, the HNSW insert rate.
 */
export async function ingestCollection(
  lib,
  { directory, name, documents, embed, dimensions, splitter, hnswAdds },
) {
  const rag = new lib.RagStore({
    dir: directory,
    ...(embed
      ? { embed: async (texts) => texts.map(embed), defaultEmbeddingModel: `bench/${name}-${dimensions}` }
      : {}),
    embeddingCache: false,
    ...(splitter ? { splitter: () => splitter } : {}),
  });
  const collection = await rag.createCollection(name, embed ? {} : { vector: false });
  const before = { ms: hnswAdds?.ms ?? 0, count: hnswAdds?.count ?? 0 };
  const started = performance.now();
  const report = await collection.ingest(documents.map((document) => ({ type: 'text', ...document })));
  const seconds = (performance.now() - started) / 1000;
  const result = {
    documents: report.documents,
    chunks: report.chunksAdded,
    seconds: round(seconds, 2),
    chunksPerSecond: Math.round(report.chunksAdded / seconds),
    commits: report.generation,
  };
  if (embed && hnswAdds) {
    const inserts = hnswAdds.count - before.count;
    const insertSeconds = (hnswAdds.ms - before.ms) / 1000;
    result.hnswInserts = inserts;
    result.hnswBuildSeconds = round(insertSeconds, 2);
    result.hnswInsertsPerSecond = Math.round(inserts / insertSeconds);
  }
  await rag.close();
  return { collection, result };
}
