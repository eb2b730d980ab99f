import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { checkWritable, keyIdOf, keyOptionsOf, keyScopedRagStore } from '../key-scoped-rag-store.js';
import type { RagSourceLike, RagStoreLike } from '../mcp-fusion.js';
import { ProgressReporter } from '../progress-reporter.js';
import { errorResult, structuredResult } from '../tool-results.js';
import type { ToolContext } from './tool-context.js';

const collectionName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a collection name: letters, digits, - and _')
  .describe('The collection, as the collections resource lists them.');

const searchInput = z.object({
  collection: collectionName,
  query: z.string().min(1).max(20_000),
  k: z.number().int().min(1).max(100).optional().describe('How many chunks. Default 5.'),
  mode: z
    .enum(['bm25', 'vector', 'hybrid'])
    .optional()
    .describe('Default: hybrid when the collection has vectors.'),
  filter: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('A metadata filter: { field: value } or Mongo-style operators ($eq $in $gt $and $or …).'),
});

const searchOutput = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      document_id: z.string(),
      text: z.string(),
      score: z.number(),
      uri: z.string().optional(),
      title: z.string().optional(),
    }),
  ),
});

const source = z.union([
  z.object({
    text: z.string().min(1).max(10_000_000),
    id: z.string().min(1).max(1024).optional(),
    title: z.string().max(1024).optional(),
  }),
  z.object({ url: z.string().url().max(8192) }),
  z.object({ path: z.string().min(1).max(4096) }),
]);

const ingestInput = z.object({
  collection: collectionName,
  sources: z
    .array(source)
    .min(1)
    .max(100)
    .describe(
      'Text ({ text, id?, title? }), public http(s) URLs ({ url }), or files and folders inside the server’s configured roots ({ path }).',
    ),
  metadata: z.record(z.string(), z.unknown()).optional().describe('Added to every document, filterable.'),
});

const ingestOutput = z.object({
  documents: z.number(),
  added: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  chunks_added: z.number(),
  chunks_removed: z.number(),
  document_ids: z.array(z.string()),
  skipped: z.array(z.object({ uri: z.string(), reason: z.string() })),
});

/** `rag_search`: ranked chunks of a collection, with their sources. */
export function registerRagSearchTool(server: McpServer, store: RagStoreLike, context: ToolContext): void {
  server.registerTool(
    'rag_search',
    {
      title: 'Search documents',
      description:
        'Searches a document collection (BM25, vectors or both) and returns the best chunks with their sources.',
      inputSchema: searchInput,
      outputSchema: searchOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, ctx) => {
      try {
        const collection = await keyScopedRagStore(store, keyIdOf(ctx)).getCollection(args.collection);
        const hits = await collection.search({
          query: args.query,
          k: args.k ?? 5,
          signal: context.signal(ctx),
          ...keyOptionsOf(ctx),
          ...(args.mode ? { mode: args.mode } : {}),
          ...(args.filter ? { filter: args.filter } : {}),
        });
        const results = hits.map((hit) => ({
          id: hit.id,
          document_id: hit.documentId,
          text: hit.text,
          score: hit.score,
          ...(hit.source?.uri ? { uri: hit.source.uri } : {}),
          ...(hit.source?.title ? { title: hit.source.title } : {}),
        }));
        const text = results
          .map((hit, index) => `[${index + 1}] ${hit.title ?? hit.uri ?? hit.document_id}\n${hit.text}`)
          .join('\n\n');
        return structuredResult({ results }, text || 'No match.');
      } catch (error) {
        return errorResult(error);
      }
    },
  );
}

function sourceOf(
  entry: z.infer<typeof source>,
  metadata: Record<string, unknown> | undefined,
): RagSourceLike {
  const common = metadata ? { metadata } : {};
  if ('text' in entry) {
    return {
      type: 'text',
      text: entry.text,
      ...(entry.id ? { id: entry.id } : {}),
      ...(entry.title ? { title: entry.title } : {}),
      ...common,
    };
  }
  if ('url' in entry) return { type: 'url', url: entry.url, ...common };
  return { type: entry.path.endsWith('/') ? 'folder' : 'file', path: entry.path, ...common };
}

/**
 * `rag_ingest`: adds text, URLs and files to a collection. The store's rules apply: paths only inside
 * its roots, URLs never to loopback or private networks. A document ingested again under the same id
 * replaces the earlier version, hence destructive; the same sources twice change nothing more.
 */
export function registerRagIngestTool(server: McpServer, store: RagStoreLike, context: ToolContext): void {
  server.registerTool(
    'rag_ingest',
    {
      title: 'Add documents',
      description:
        'Adds text, web pages (public http(s) URLs) or files (paths inside the server’s roots; a path ending in / is a folder) to a document collection. Documents with the same id are replaced.',
      inputSchema: ingestInput,
      outputSchema: ingestOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args, ctx) => {
      const progress = new ProgressReporter(ctx);
      try {
        const collection = await keyScopedRagStore(store, keyIdOf(ctx)).getCollection(args.collection);
        checkWritable(collection, ctx);
        const report = await collection.ingest(
          args.sources.map((entry) => sourceOf(entry, args.metadata)),
          {
            signal: context.signal(ctx),
            ...keyOptionsOf(ctx),
            onProgress: (counters) => {
              void progress.report(counters.documents, `${counters.documents} documents read`);
            },
          },
        );
        return structuredResult({
          documents: report.documents,
          added: report.added,
          updated: report.updated,
          unchanged: report.unchanged,
          chunks_added: report.chunksAdded,
          chunks_removed: report.chunksRemoved,
          document_ids: report.documentIds,
          skipped: report.skipped,
        });
      } catch (error) {
        return errorResult(error);
      }
    },
  );
}
