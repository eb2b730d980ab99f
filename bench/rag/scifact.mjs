/**
 * SciFact in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv), read from the shared folder
 * next to the repository (CC BY-NC: read in place, never copied), and BEIR's metric definitions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** `SCIFACT_DIR`, else `../shared/datasets/scifact` from the repository root. */
export function scifactDirectory(repoRoot) {
  const directory = process.env.SCIFACT_DIR ?? resolve(repoRoot, '../shared/datasets/scifact');
  if (!existsSync(join(directory, 'corpus.jsonl'))) {
    throw new Error(`SciFact not found in ${directory}: set SCIFACT_DIR to a BEIR-layout folder`);
  }
  return directory;
}

const jsonLines = (path) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));

/** corpus: [{ _id, title, text }]; queries: Map id → text; qrels: Map query id → Map doc id → grade. */
export function loadScifact(directory) {
  const corpus = jsonLines(join(directory, 'corpus.jsonl'));
  const queries = new Map(
    jsonLines(join(directory, 'queries.jsonl')).map((query) => [String(query._id), query.text]),
  );
  const qrels = new Map();
  const lines = readFileSync(join(directory, 'qrels', 'test.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  for (const line of lines) {
    const [queryId, documentId, grade] = line.split('\t');
    if (!qrels.has(queryId)) qrels.set(queryId, new Map());
    qrels.get(queryId).set(documentId, Number(grade));
  }
  return { corpus, queries, qrels };
}

/** nDCG@k as pytrec_eval computes it (BEIR): linear gains, log2 discount, ideal from the judgements. */
export function ndcgAt(ranked, judgements, k) {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, index) => {
    dcg += (judgements.get(id) ?? 0) / Math.log2(index + 2);
  });
  const ideal = [...judgements.values()].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, gain, index) => sum + gain / Math.log2(index + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}

/** Recall@k (BEIR): relevant documents in the top k over all relevant documents. */
export function recallAt(ranked, judgements, k) {
  const relevant = [...judgements].filter(([, grade]) => grade > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

/** Mean nDCG@10 and recall@100 of a ranking function over the test queries. */
export function evaluate(scifact, rank) {
  let ndcg = 0;
  let recall = 0;
  const times = [];
  for (const [queryId, judgements] of scifact.qrels) {
    const started = performance.now();
    const ranked = rank(scifact.queries.get(queryId));
    times.push(performance.now() - started);
    ndcg += ndcgAt(ranked, judgements, 10);
    recall += recallAt(ranked, judgements, 100);
  }
  const count = scifact.qrels.size;
  return { queries: count, ndcgAt10: ndcg / count, recallAt100: recall / count, times };
}
