import { throwIfAborted } from '@fusionkit/core/internal';
import type { SkippedSource } from '../sources/read-sources.js';
import type { IngestOptions, IngestReport } from './collection-options.js';
import type { BatchCounts } from './ingest-batch.js';
import type { DocumentInput } from './records.js';

/** Documents split, embedded and applied together (and seen together by searches). */
const BATCH_DOCUMENTS = 64;

/** What a run needs from its collection. */
export interface IngestSteps {
  skipped: SkippedSource[];
  /** Sources read so far (each one yields a batch of documents). */
  sourcesRead(): number;
  /** Generation before the run. */
  generation: number;
  applyBatch(batch: DocumentInput[]): Promise<BatchCounts>;
  /** Commits when anything changed since the last commit; resolves to the new generation. */
  commitIfChanged(): Promise<number | undefined>;
}

/**
 * Feeds documents through in batches of 64, commits every `commitEvery` documents and at the end,
 * reports progress after each batch and returns the totals.
 */
export async function runIngest(
  batches: AsyncIterable<DocumentInput[]>,
  options: IngestOptions,
  steps: IngestSteps,
): Promise<IngestReport> {
  const report: IngestReport = {
    sources: 0,
    documents: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    chunksAdded: 0,
    chunksRemoved: 0,
    documentIds: [],
    skipped: steps.skipped,
    generation: steps.generation,
  };
  const commitEvery = Math.max(1, options.commitEvery ?? 1000);
  let pending: DocumentInput[] = [];
  let sinceCommit = 0;
  const commit = async () => {
    report.generation = (await steps.commitIfChanged()) ?? report.generation;
    sinceCommit = 0;
  };
  const flush = async () => {
    if (pending.length === 0) return;
    if (options.signal) throwIfAborted(options.signal);
    const batch = pending;
    pending = [];
    const counts = await steps.applyBatch(batch);
    report.added += counts.added;
    report.updated += counts.updated;
    report.unchanged += counts.unchanged;
    report.chunksAdded += counts.chunksAdded;
    report.chunksRemoved += counts.chunksRemoved;
    sinceCommit += batch.length;
    report.sources = steps.sourcesRead();
    const { documentIds: _ids, skipped: _skipped, generation: _generation, ...progress } = report;
    options.onProgress?.(progress);
    if (sinceCommit >= commitEvery) await commit();
  };
  for await (const documents of batches) {
    for (const document of documents) {
      pending.push(document);
      report.documents++;
      report.documentIds.push(document.id);
      if (pending.length >= BATCH_DOCUMENTS) await flush();
    }
  }
  await flush();
  await commit();
  report.sources = steps.sourcesRead();
  return report;
}
