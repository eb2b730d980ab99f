import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetadataFilter, RetrievedChunk } from '@fusionkit/core';
import { RagStore, type RagStoreOptions, type SearchMode } from '@fusionkit/rag';
import type { CliContext } from './cli-context.js';
import { configEmbedder, stateDirectory, userError } from './ingest-command.js';

/** Options of `fusion query`. */
export interface QueryCommandOptions {
  query?: string;
  collection?: string;
  /** Chunks to print (text from the command line). @default 5 */
  k?: string | number;
  mode?: string;
  /** A JSON metadata filter. @example '{"path":"guide.md"}' */
  filter?: string;
  /** Overrides the collection's recorded embedding model (must be the same model, served under another id). */
  embeddingModel?: string;
  config?: string;
  /** Print the chunks as JSON on stdout. */
  json?: boolean;
}

const MODES: readonly SearchMode[] = ['bm25', 'vector', 'hybrid'];
const USAGE =
  'usage: fusion query "question" --collection NAME [--k 5] [--mode bm25|vector|hybrid] [--filter JSON] [--json]';

/**
 * A source as a person reads it: for files, the path under its root folder (`docs/guide.md`), or for
 * a collection ingested before ids were relative, the path relative to the working directory; else the URI.
 */
function displaySource(cwd: string, chunk: RetrievedChunk): string {
  const uri = chunk.source?.uri ?? chunk.documentId;
  if (uri.startsWith('file:') && !uri.startsWith('file://')) return uri.slice('file:'.length);
  if (!uri.startsWith('file://')) return uri;
  const path = relative(cwd, fileURLToPath(uri));
  return path.startsWith('..') ? fileURLToPath(uri) : path;
}

function snippet(text: string, length = 240): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

function printChunk(context: CliContext, chunk: RetrievedChunk, rank: number): void {
  const headings = Array.isArray(chunk.metadata?.headings) ? (chunk.metadata.headings as string[]) : [];
  const where = [displaySource(context.cwd, chunk), ...headings].join(' › ');
  const span = chunk.source?.span ? `  chars ${chunk.source.span.start}-${chunk.source.span.end}` : '';
  context.out(`${rank}. ${where}  (score ${chunk.score.toPrecision(3)}${span})`);
  context.out(`   ${snippet(chunk.text)}`);
}

function parseOptions(options: QueryCommandOptions): {
  k: number;
  mode?: SearchMode;
  filter?: MetadataFilter;
  error?: string;
} {
  const k = options.k === undefined ? 5 : Number(options.k);
  if (!Number.isInteger(k) || k < 1 || k > 1000) return { k, error: '--k must be an integer from 1 to 1000' };
  if (options.mode !== undefined && !MODES.includes(options.mode as SearchMode)) {
    return { k, error: `--mode must be ${MODES.join(', ')}` };
  }
  let filter: MetadataFilter | undefined;
  if (options.filter !== undefined) {
    try {
      filter = JSON.parse(options.filter) as MetadataFilter;
    } catch {
      return { k, error: `--filter must be JSON, e.g. '{"path":"guide.md"}'` };
    }
  }
  return { k, ...(options.mode ? { mode: options.mode as SearchMode } : {}), ...(filter ? { filter } : {}) };
}

/**
 * `fusion query "…" --collection NAME [--k 5] [--mode hybrid]`: the collection's best chunks, ranked,
 * with their sources. A collection with vectors searches hybrid when the config serves its embedding
 * model; otherwise it says so and searches lexically (BM25). Returns the exit code.
 */
export async function queryCommand(context: CliContext, options: QueryCommandOptions): Promise<number> {
  const parsed = parseOptions(options);
  if (!options.collection || !options.query || parsed.error) {
    context.log(parsed.error ? `fusion query: ${parsed.error}\n${USAGE}` : USAGE);
    return 2;
  }
  const name = options.collection;
  let close = async () => {};
  let store: RagStore | undefined;
  try {
    const collections = await new RagStore({
      dir: await stateDirectory(context, options.config),
    }).listCollections();
    const info = collections.find((collection) => collection.name === name);
    if (!info) {
      const known = collections.map((collection) => collection.name).join(', ');
      context.log(
        `fusion query: no collection '${name}' in .fusion/rag${known ? ` (there are: ${known})` : ''}; create it with: fusion ingest <path> --collection ${name}`,
      );
      return 1;
    }
    let embed: RagStoreOptions['embed'];
    const model = info.vector?.model;
    if (model && parsed.mode !== 'bm25') {
      const embedder = await configEmbedder(context, {
        model: options.embeddingModel ?? model,
        ...(options.config ? { config: options.config } : {}),
      });
      close = embedder.close;
      if (embedder.embed) {
        const served = embedder.embed;
        embed = (texts, { signal }) =>
          served(texts, { model: options.embeddingModel ?? model, ...(signal ? { signal } : {}) });
      } else if (parsed.mode) {
        context.log(`fusion query: --mode ${parsed.mode} needs embeddings, but ${embedder.reason}.`);
        return 1;
      } else {
        context.log(
          `'${name}' has vectors from '${model}', but ${embedder.reason}: searching lexically (BM25).`,
        );
      }
    }
    store = new RagStore({ dir: await stateDirectory(context, options.config), ...(embed ? { embed } : {}) });
    const collection = await store.getCollection(name);
    const chunks = await collection.search({
      query: options.query,
      k: parsed.k,
      ...(parsed.mode ? { mode: parsed.mode } : {}),
      ...(parsed.filter ? { filter: parsed.filter } : {}),
    });
    if (options.json) {
      context.out(
        JSON.stringify(
          chunks.map((chunk, index) => ({ rank: index + 1, ...chunk })),
          null,
          2,
        ),
      );
      return 0;
    }
    const mode = parsed.mode ?? collection.defaultSearchMode;
    context.log(
      `${chunks.length} result${chunks.length === 1 ? '' : 's'} from '${name}' (${mode}${
        info.vector ? '' : ', lexical-only collection'
      })`,
    );
    for (const [index, chunk] of chunks.entries()) printChunk(context, chunk, index + 1);
    return 0;
  } catch (error) {
    const message = userError(error);
    if (message === undefined) throw error;
    context.log(`fusion query: ${message}`);
    return 1;
  } finally {
    await store?.close();
    await close();
  }
}
