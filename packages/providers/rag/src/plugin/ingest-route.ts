import { InvalidRequestError, type JobContext, type JobHandler, type RouteHandler } from '@fusionkit/core';
import { jsonResponse } from '@fusionkit/core/internal';
import type { IngestSource } from '../sources/ingest-source.js';
import { countSources } from '../sources/read-sources.js';
import { resolveTokenizer } from '../splitters/named-tokenizer.js';
import type { Collection } from '../store/collection.js';
import type { IngestProgress } from '../store/collection-options.js';
import { type IngestRequest, readIngestRequest } from './ingest-request.js';
import type { RagService, RequestKey } from './rag-service.js';
import { ingestReportJson, splitterJson } from './wire-format.js';

/** Counters of a running ingest, as a job's `detail`. */
function progressDetail(progress: IngestProgress) {
  return {
    documents: progress.documents,
    added: progress.added,
    updated: progress.updated,
    unchanged: progress.unchanged,
    chunks_added: progress.chunksAdded,
    chunks_removed: progress.chunksRemoved,
  };
}

/** What a `rag.ingest` job keeps: enough to run the ingest again after a restart. */
export interface IngestJobInput {
  collection: string;
  /** The API key whose own collection it is (absent for a shared collection). */
  owner?: string;
  /** The API key that asked (an admin key may ingest into a shared collection): charged for the embeddings. */
  apiKeyId?: string;
  sources: IngestSource[];
  total: number;
  lexicalOnly: boolean;
}

async function runIngest(service: RagService, input: IngestJobInput, context: JobContext) {
  const { total } = input;
  const collection = await service.open(
    input.collection,
    'collection',
    input.owner === undefined ? undefined : { id: input.owner },
  );
  const report = await collection.ingest(input.sources, {
    signal: context.signal,
    ...(input.apiKeyId === undefined ? {} : { apiKeyId: input.apiKeyId }),
    onProgress: (progress) =>
      context.progress({ done: progress.sources, total, detail: progressDetail(progress) }),
  });
  context.progress({ done: report.sources, total, detail: progressDetail(report) });
  return ingestReportJson(collection.name, report, input.lexicalOnly);
}

/**
 * The `rag.ingest` kind: an ingest that runs again from the start after a restart. Documents
 * committed before the crash are unchanged then, so they are skipped: no chunk is added twice.
 * Created only by `POST /api/rag/ingest`, which has checked the sources (`http: false`).
 */
export function ingestJob(service: RagService): JobHandler<IngestJobInput> {
  return { http: false, run: (input, context) => runIngest(service, input, context) };
}

/** Whether an ingest is large enough to run as a job. */
function runsAsJob(ingest: IngestRequest, threshold: { sources: number; bytes: number }): boolean {
  if (ingest.async !== undefined) return ingest.async;
  return (
    ingest.hasFolder || ingest.sources.length > threshold.sources || ingest.inlineBytes > threshold.bytes
  );
}

async function openOrCreate(
  service: RagService,
  ingest: IngestRequest,
  apiKey: RequestKey,
): Promise<Collection> {
  let existing: Collection | undefined;
  try {
    existing = await service.open(ingest.collection, 'collection', apiKey, 'write');
  } catch (error) {
    if (!ingest.create || (error as { status?: unknown }).status !== 404) throw error;
  }
  if (existing) {
    // A collection splits every ingest as recorded at its creation; another splitter would mix sizes.
    const recorded = existing.config.splitter;
    const asked = { ...ingest.splitter };
    // A tokenizer path compares as the absolute tokenizer.json the collection recorded.
    if (asked.tokenizer)
      asked.tokenizer = await resolveTokenizer(asked.tokenizer, { param: 'splitter.tokenizer' });
    const differs = (Object.keys(asked) as (keyof typeof asked)[]).find(
      (key) => asked[key] !== recorded[key],
    );
    if (differs) {
      throw new InvalidRequestError(
        `Collection '${existing.name}' splits with ${JSON.stringify(splitterJson(recorded))}; its splitter is set when it is created.`,
        { code: 'splitter_mismatch', param: 'splitter' },
      );
    }
    return existing;
  }
  return service.create(ingest.collection, ingest.splitter ? { splitter: ingest.splitter } : {}, apiKey);
}

/**
 * `POST /api/rag/ingest`: JSON (`documents`, `urls`, `paths`) or a multipart upload. Small ingests
 * answer with the report; large ones (or `async: true`) answer 202 with a job whose progress counts
 * sources read (`GET /api/jobs/:id`), cancelled with `DELETE /api/jobs/:id`.
 */
export function ingestRoute(service: RagService): RouteHandler {
  return async (request, { requestId, signal, apiKey }) => {
    const ingest = await readIngestRequest(request, {
      maxBodyBytes: service.options.maxBodyBytes,
      maxUploadBytes: service.options.maxUploadBytes,
      sources: service.store.sourceOptions,
    });
    const webhook = service.webhook(ingest.webhook);
    const collection = await openOrCreate(service, ingest, apiKey);
    const lexicalOnly = collection.config.vector === undefined;
    if (!runsAsJob(ingest, service.options.asyncThreshold)) {
      const report = await collection.ingest(ingest.sources, {
        signal,
        requestId,
        ...(apiKey ? { apiKeyId: apiKey.id } : {}),
      });
      return jsonResponse(ingestReportJson(collection.name, report, lexicalOnly), 200, requestId);
    }
    const total = await countSources(ingest.sources, service.store.sourceOptions);
    const { owner } = collection.config;
    const input: IngestJobInput = {
      collection: collection.name,
      ...(owner === undefined ? {} : { owner }),
      ...(apiKey ? { apiKeyId: apiKey.id } : {}),
      sources: ingest.sources,
      total,
      lexicalOnly,
    };
    // Uploaded bytes are not kept in the job store: such a job cannot resume after a restart.
    const resumable = ingest.sources.every((source) => source.type !== 'bytes');
    const job = service.jobs.create({
      kind: 'rag.ingest',
      total,
      metadata: { collection: collection.name, ...(owner === undefined ? {} : { collection_owner: owner }) },
      // The key that asked owns the job: with API keys on, only it reads or cancels it at /api/jobs.
      ...(apiKey ? { owner: apiKey.id } : {}),
      ...(webhook ? { webhook } : {}),
      ...(resumable ? { input } : { run: (context: JobContext) => runIngest(service, input, context) }),
    });
    return jsonResponse(job, 202, requestId, { location: `/api/jobs/${job.id}` });
  };
}
