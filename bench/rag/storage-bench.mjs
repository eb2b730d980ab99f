/**
 * Storage at scale: a collection of ~100k SciFact sentence chunks with hashed 256-d vectors (the
 * corpus ingested twice under different ids), then
 *   - add one document / delete one document (commit included), median of several;
 *   - load in a fresh process against the raw baseline of the same files: hnswlib-node `readIndex`
 *     of the same index plus reading the chunk texts (`readFile` + UTF-8 decode of the store);
 *   - peak RSS while loading against the loaded size (both above the process's RSS before loading).
 * Runs alone (`node bench/rag/storage-bench.mjs`) or from run.mjs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashedVectors, sentenceSplitter } from './embedders.mjs';
import { median, round, timed } from './measure.mjs';

const benchDirectory = fileURLToPath(new URL('.', import.meta.url));

/** Loads in fresh processes, alternating collection and raw baseline, `rounds` times each. */
function loadRounds(libraryUrl, directory, name, rounds) {
  const runs = { collection: [], raw: [] };
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['collection', 'raw']) {
      const output = execFileSync(process.execPath, [
        '--expose-gc',
        join(benchDirectory, 'storage-load-child.mjs'),
        libraryUrl,
        directory,
        name,
        mode,
      ]);
      runs[mode].push(JSON.parse(output.toString()));
    }
  }
  const pick = (mode, field) => median(runs[mode].map((run) => run[field]));
  return {
    loadMs: round(pick('collection', 'ms'), 1),
    rawMs: round(pick('raw', 'ms'), 1),
    ratio: round(pick('collection', 'ms') / pick('raw', 'ms'), 2),
    loadCpuMs: round(pick('collection', 'cpuMs'), 1),
    rawCpuMs: round(pick('raw', 'cpuMs'), 1),
    cpuRatio: round(pick('collection', 'cpuMs') / pick('raw', 'cpuMs'), 2),
    peakMb: round(pick('collection', 'peakMb'), 1),
    loadedMb: round(pick('collection', 'loadedMb'), 1),
    peakRatio: round(pick('collection', 'peakMb') / pick('collection', 'loadedMb'), 2),
    chunks: runs.collection[0].chunks,
    files: runs.collection[0].files,
  };
}

/**
 * @param lib the built @fusionkit/rag
 * @param options.directory state directory (a temporary one)
 * @param options.scifact from loadScifact
 */
export async function benchStorage(lib, { libraryUrl, directory, scifact, log, copies = 2, rounds = 3 }) {
  const dimensions = 256;
  const embed = hashedVectors(lib.createEnglishAnalyzer(), dimensions);
  const name = 'storage-100k';
  const rag = new lib.RagStore({
    dir: directory,
    embed: async (texts) => texts.map(embed),
    defaultEmbeddingModel: `bench/hashed-${dimensions}`,
    embeddingCache: false,
    splitter: () => sentenceSplitter,
  });
  // efConstruction 64 keeps the one-off build short; adds, deletes and loads do not depend on it.
  const collection = await rag.createCollection(name, { vector: { efConstruction: 64 } });
  const documents = [];
  for (let copy = 0; copy < copies; copy++) {
    for (const document of scifact.corpus) {
      documents.push({
        type: 'text',
        id: copy === 0 ? document._id : `${document._id}~${copy}`,
        title: document.title,
        text: `${document.title}\n${document.text}`,
      });
    }
  }
  log(`storage: ingesting ${documents.length} documents as sentence chunks with 256-d vectors`);
  const ingest = await timed(() => collection.ingest(documents, { commitEvery: 1e9 }));
  const chunks = collection.info().chunks;
  log(`storage: ${chunks} chunks in ${round(ingest.ms / 1000, 1)} s; adding and deleting one document`);
  const adds = [];
  const deletes = [];
  for (let index = 0; index < 7; index++) {
    const text = Array.from(
      { length: 10 },
      (_, line) => `Bench note ${index} line ${line} about protein ${line * 7 + index} in cells.`,
    ).join('\n');
    const id = `bench-added-${index}`;
    adds.push((await timed(() => collection.upsertDocuments([{ id, text }]))).ms);
    deletes.push((await timed(() => collection.deleteDocuments([id]))).ms);
  }
  await rag.close();
  log('storage: loading in fresh processes');
  const load = loadRounds(libraryUrl, directory, name, rounds);
  return {
    chunks,
    dimensions,
    ingestSeconds: round(ingest.ms / 1000, 1),
    addOneMs: round(median(adds), 1),
    deleteOneMs: round(median(deletes), 1),
    ...load,
  };
}

/** Markdown rows of the storage measurements with PASS/MISS against the targets. */
export function storageReport(storage) {
  const check = (value, target) => (value <= target ? 'PASS' : 'MISS');
  return [
    `### Storage at ${storage.chunks} chunks (SciFact sentences ×2, hashed ${storage.dimensions}-d; median of fresh processes)`,
    '| measurement | result | target |',
    '|---|---|---|',
    `| add one document (10 chunks), commit included | ${storage.addOneMs} ms | ≤ 50 ms: ${check(storage.addOneMs, 50)} |`,
    `| delete one document, commit included | ${storage.deleteOneMs} ms | ≤ 50 ms: ${check(storage.deleteOneMs, 50)} |`,
    `| load the collection, fresh process | ${storage.loadMs} ms | ≤ 500 ms: ${check(storage.loadMs, 500)} |`,
    `| raw baseline: hnswlib-node \`readIndex\` + read the chunk texts | ${storage.rawMs} ms | |`,
    `| load / raw | ${storage.ratio}× | ≤ 1.5×: ${check(storage.ratio, 1.5)} |`,
    `| CPU time of the load / of the raw baseline (all threads; steadier than wall time on a busy machine) | ${storage.loadCpuMs} ms / ${storage.rawCpuMs} ms = ${storage.cpuRatio}× | |`,
    `| peak RSS while loading / loaded size | ${storage.peakMb} MB / ${storage.loadedMb} MB = ${storage.peakRatio}× | ≤ 1.5×: ${check(storage.peakRatio, 1.5)} |`,
    `| files on disk | ${storage.files} | |`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { pathToFileURL } = await import('node:url');
  const { loadScifact, scifactDirectory } = await import('./scifact.mjs');
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  // RAG_LIB: another build of the package (e.g. the code before a change), for a before/after table.
  const libraryUrl = pathToFileURL(
    process.env.RAG_LIB ?? join(repoRoot, 'packages/providers/rag/dist/index.js'),
  ).href;
  const lib = await import(libraryUrl);
  const directory = await mkdtemp(join(tmpdir(), 'fusion-rag-storage-'));
  try {
    const storage = await benchStorage(lib, {
      libraryUrl,
      directory,
      scifact: loadScifact(scifactDirectory(repoRoot)),
      log: (message) => process.stderr.write(`[bench:rag] ${message}\n`),
    });
    console.log(storageReport(storage));
    console.log(JSON.stringify(storage));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
