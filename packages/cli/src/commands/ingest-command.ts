import { stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { FusionError } from '@fusionkit/core';
import {
  countSources,
  type IngestProgress,
  type IngestReport,
  type IngestSource,
  RagStore,
  type RagStoreOptions,
  resolveTokenizer,
  type SplitterConfig,
} from '@fusionkit/rag';
import { resolveConfig } from '../config/resolve-config.js';
import type { CliContext } from './cli-context.js';
import { createFusionFromConfig } from './create-fusion-from-config.js';
import { ragStateDirectory } from './rag-serve.js';

/** A terminal to draw a progress bar on (`process.stderr`); without one, progress is plain lines. */
export interface ProgressTerminal {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** What the RAG commands use of the process: the CLI context, plus stderr as a terminal when there is one. */
export type RagCliContext = CliContext & { stderr?: ProgressTerminal };

/** Options of `fusion ingest`. */
export interface IngestCommandOptions {
  /** Paths (files or folders) and http(s) URLs. */
  inputs: string[];
  collection?: string;
  /** An embedding model of the config's upstreams or providers; without it the collection is lexical only. */
  embeddingModel?: string;
  config?: string;
  /** Splitter of a new collection: 'auto', 'recursive', 'markdown' or 'token'. */
  splitter?: string;
  /**
   * The token splitter's tokenizer: a model or encoding name, or a local Hugging Face
   * `tokenizer.json` or the folder holding one (relative to the working directory).
   */
  tokenizer?: string;
  /** Largest chunk, characters (tokens for 'token'), as given on the command line. */
  chunkSize?: string;
  chunkOverlap?: string;
  /** Print the report as JSON on stdout. */
  json?: boolean;
}

/**
 * Where the CLI keeps collections, as `fusion serve` finds them: `FUSION_RAG_DIR`, else the config's
 * `rag.dir`, else `.fusion/` under the working directory.
 */
export async function stateDirectory(context: CliContext, configPath?: string): Promise<string> {
  if (context.env.FUSION_RAG_DIR) return ragStateDirectory(context);
  const config = await resolveConfig({
    cwd: context.cwd,
    env: context.env,
    ...(configPath ? { configPath } : {}),
  }).catch(() => undefined);
  return ragStateDirectory(context, config);
}

/**
 * `fusion.embed` of the config's orchestrator for one model, or why there is none. The caller closes
 * the orchestrator.
 */
export async function configEmbedder(
  context: CliContext,
  options: { config?: string; model: string },
): Promise<{ embed?: RagStoreOptions['embed']; reason?: string; close(): Promise<void> }> {
  const config = await resolveConfig({
    cwd: context.cwd,
    env: context.env,
    ...(options.config ? { configPath: options.config } : {}),
  });
  // No HTTP here: the MCP endpoint is not mounted.
  const fusion = createFusionFromConfig({ ...config, healthIntervalMs: 0, mcp: false });
  const close = () => fusion.close({ timeoutMs: 0 });
  await fusion.ready;
  if (!fusion.registry.find(options.model)) {
    return {
      reason: `no upstream or provider of the config serves '${options.model}' (fusion models lists them)`,
      close,
    };
  }
  const embed: RagStoreOptions['embed'] = async (texts, { model, signal }) => {
    const result = await fusion.embed({ model, input: texts }, signal ? { signal } : {});
    return [...result.data].sort((left, right) => left.index - right.index).map((item) => item.embedding);
  };
  return { embed, close };
}

/** A message for a FusionError, or `undefined` for anything else (a bug: let it surface). */
export function userError(error: unknown): string | undefined {
  return FusionError.isInstance(error) ? error.message : undefined;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes}m${Math.round(seconds % 60)}s`
    : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/**
 * Ingest progress on stderr: a redrawn bar on a terminal (files, chunks, rate, ETA), otherwise a
 * plain line at most every two seconds, so logs stay readable.
 */
class ProgressLine {
  readonly #context: RagCliContext;
  readonly #total: number;
  readonly #startedAt = performance.now();
  #lastDraw = this.#startedAt;
  #drawn = false;

  constructor(context: RagCliContext, total: number) {
    this.#context = context;
    this.#total = total;
  }

  update(progress: Pick<IngestProgress, 'sources' | 'chunksAdded'>, final = false): void {
    const now = performance.now();
    const terminal = this.#context.stderr?.isTTY ? this.#context.stderr : undefined;
    if (!final && now - this.#lastDraw < (terminal ? 100 : 2000)) return;
    this.#lastDraw = now;
    const seconds = (now - this.#startedAt) / 1000;
    const done = Math.min(progress.sources, this.#total);
    const rate = seconds > 0 ? progress.chunksAdded / seconds : 0;
    const eta = done > 0 ? (seconds / done) * (this.#total - done) : Number.POSITIVE_INFINITY;
    const text = [
      `${done}/${this.#total} files`,
      `${progress.chunksAdded} chunks`,
      `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} chunks/s`,
      final ? formatDuration(seconds) : `ETA ${formatDuration(eta)}`,
    ].join(' · ');
    if (!terminal) {
      this.#context.log(text);
      return;
    }
    const width = Math.max(10, Math.min(30, (terminal.columns ?? 80) - text.length - 4));
    const filled = this.#total > 0 ? Math.round((done / this.#total) * width) : width;
    terminal.write(
      `\r\x1b[K[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${text}${final ? '\n' : ''}`,
    );
    this.#drawn = !final;
  }

  /** Ends a bar left mid-line (an error). */
  end(): void {
    if (this.#drawn) this.#context.stderr?.write('\n');
  }
}

/** Paths become file or folder sources (each is its own root); http(s) inputs become URL sources. */
async function toSources(
  cwd: string,
  inputs: string[],
): Promise<{ sources: IngestSource[]; roots: string[] }> {
  const sources: IngestSource[] = [];
  const roots: string[] = [];
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) {
      sources.push({ type: 'url', url: input });
      continue;
    }
    const path = resolve(cwd, input);
    const info = await stat(path).catch(() => undefined);
    if (!info)
      throw new FusionError({
        message: `No such file or folder: ${input}`,
        code: 'file_not_found',
        status: 404,
      });
    // A file's root is its folder, so its id names the folder too (`file:guide/install.md`).
    roots.push(info.isDirectory() ? path : dirname(path));
    sources.push(info.isDirectory() ? { type: 'folder', path } : { type: 'file', path });
  }
  return { sources, roots };
}

/** The splitter flags as a new collection's splitter (the store checks them). */
function splitterFlags(options: IngestCommandOptions): Partial<SplitterConfig> | undefined {
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new FlagError(`--${flag} must be a whole number, not '${value}'`);
    return Number(value);
  };
  const chunkSize = number('chunk-size', options.chunkSize);
  const chunkOverlap = number('chunk-overlap', options.chunkOverlap);
  const splitter: Partial<SplitterConfig> = {
    ...(options.splitter !== undefined ? { kind: options.splitter as SplitterConfig['kind'] } : {}),
    ...(options.tokenizer !== undefined ? { tokenizer: options.tokenizer } : {}),
    ...(chunkSize !== undefined ? { chunkSize } : {}),
    ...(chunkOverlap !== undefined ? { chunkOverlap } : {}),
  };
  return Object.keys(splitter).length > 0 ? splitter : undefined;
}

/** The flag behind a store error's `splitter.*` field, for the message. */
const SPLITTER_FLAGS: Record<string, string> = {
  'splitter.kind': '--splitter',
  'splitter.tokenizer': '--tokenizer',
  'splitter.chunk_size': '--chunk-size',
  'splitter.chunk_overlap': '--chunk-overlap',
};

class FlagError extends FusionError {
  constructor(message: string) {
    super({ message, code: 'invalid_request_error', status: 400 });
  }
}

/** Whether a collection's recorded splitter differs from the one the flags ask for. */
function splitterDiffers(recorded: SplitterConfig | undefined, asked: Partial<SplitterConfig>): boolean {
  if (!recorded) return false;
  return (Object.keys(asked) as (keyof SplitterConfig)[]).some((key) => asked[key] !== recorded[key]);
}

function describeSplitter(splitter: SplitterConfig): string {
  return `${splitter.kind}${splitter.tokenizer ? ` (${splitter.tokenizer})` : ''}, chunks of ${splitter.chunkSize} with ${splitter.chunkOverlap} overlap`;
}

function summary(name: string, report: IngestReport, seconds: number, lexicalOnly: boolean): string {
  return [
    `ingested ${report.sources} source${report.sources === 1 ? '' : 's'} (${report.documents} documents) into '${name}':`,
    `${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged;`,
    `${report.chunksAdded} chunks added, ${report.chunksRemoved} removed`,
    ...(report.skipped.length > 0 ? [`(${report.skipped.length} file(s) skipped, listed above)`] : []),
    `in ${seconds.toFixed(1)}s${lexicalOnly ? ' (lexical only)' : ''}`,
  ].join(' ');
}

/**
 * `fusion ingest <path|url>… --collection NAME [--embedding-model ID]`: reads files, folders and
 * URLs into a collection under `.fusion/rag/`, creating it when needed, with progress on stderr.
 * Without an embedding model the collection is lexical only (BM25), which needs no model at all.
 * Returns the exit code.
 */
export async function ingestCommand(context: RagCliContext, options: IngestCommandOptions): Promise<number> {
  if (!options.collection || options.inputs.length === 0) {
    context.log(
      'usage: fusion ingest <path|url>... --collection NAME [--embedding-model ID] [--splitter KIND] [--json]',
    );
    return 2;
  }
  const name = options.collection;
  let close = async () => {};
  let store: RagStore | undefined;
  let progress: ProgressLine | undefined;
  try {
    const splitter = splitterFlags(options);
    // A tokenizer path is recorded (and compared) as the absolute path of its tokenizer.json.
    if (splitter?.tokenizer)
      splitter.tokenizer = await resolveTokenizer(splitter.tokenizer, {
        param: 'splitter.tokenizer',
        cwd: context.cwd,
      });
    const { sources, roots } = await toSources(context.cwd, options.inputs);
    const dir = await stateDirectory(context, options.config);
    const existing = (await new RagStore({ dir }).listCollections()).find((info) => info.name === name);
    if (existing && options.embeddingModel && existing.vector?.model !== options.embeddingModel) {
      context.log(
        `collection '${name}' ${
          existing.vector ? `embeds with ${existing.vector.model}` : 'is lexical only'
        }: --embedding-model ${options.embeddingModel} is not used.`,
      );
    }
    if (existing?.splitter && splitter && splitterDiffers(existing.splitter, splitter)) {
      // The recorded splitter wins: re-splitting some documents differently would mix chunk sizes.
      context.log(
        `collection '${name}' splits ${describeSplitter(existing.splitter)}: the splitter flags are not used.`,
      );
    }
    const model = existing ? existing.vector?.model : options.embeddingModel;
    let embed: RagStoreOptions['embed'];
    if (model) {
      const embedder = await configEmbedder(context, {
        model,
        ...(options.config ? { config: options.config } : {}),
      });
      close = embedder.close;
      if (!embedder.embed) {
        context.log(`fusion ingest: '${name}' needs embeddings from '${model}', but ${embedder.reason}.`);
        return 1;
      }
      embed = embedder.embed;
    }
    store = new RagStore({
      dir,
      ...(embed ? { embed } : {}),
      // The CLI reads what its user names, as curl or cat would: local networks included.
      sources: { roots, fetch: { allowPrivateNetwork: true } },
    });
    const collection = existing
      ? await store.getCollection(name)
      : await store.createCollection(name, {
          vector: model ? { model } : false,
          ...(splitter ? { splitter } : {}),
        });
    const lexicalOnly = collection.config.vector === undefined;
    context.log(
      `${existing ? '' : 'created '}collection '${name}' in ${relative(context.cwd, join(dir, 'rag', name)) || '.'}: ${
        lexicalOnly
          ? 'lexical only (BM25); pass --embedding-model ID for vector search'
          : `BM25 + vectors from ${model}`
      }`,
    );
    const total = await countSources(sources, store.sourceOptions);
    const startedAt = performance.now();
    progress = new ProgressLine(context, total);
    const report = await collection.ingest(sources, { onProgress: (update) => progress?.update(update) });
    progress.update(report, true);
    for (const skipped of report.skipped) context.log(`skipped ${skipped.path}: ${skipped.reason}`);
    const seconds = (performance.now() - startedAt) / 1000;
    context.out(
      options.json
        ? JSON.stringify({ collection: name, lexicalOnly, seconds, ...report }, null, 2)
        : summary(name, report, seconds, lexicalOnly),
    );
    return 0;
  } catch (error) {
    progress?.end();
    const message = userError(error);
    if (message === undefined) throw error;
    const flag = SPLITTER_FLAGS[(error as FusionError).param ?? ''];
    if (flag) {
      context.log(`fusion ingest: ${flag}: ${message}`);
      return 2;
    }
    context.log(`fusion ingest: ${message}`);
    return 1;
  } finally {
    await store?.close();
    await close();
  }
}
