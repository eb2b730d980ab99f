import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FusionError, InvalidRequestError, NotFoundError } from '@fusionkit/core';
import Keyv from 'keyv';
import { BoundedMap } from '../embedding/bounded-map.js';
import { createCachedEmbedder } from '../embedding/cached-embedder.js';
import type { EmbedCallOptions } from '../embedding/embedder.js';
import type { DocumentFormat } from '../loaders/loaded-document.js';
import type { SourceOptions } from '../sources/ingest-source.js';
import { loadTokenizer } from '../splitters/named-tokenizer.js';
import type { TextSplitter } from '../splitters/text-splitter.js';
import { Collection } from './collection.js';
import type { CollectionOptions } from './collection-options.js';
import { CollectionStorage, type CommitStep } from './collection-storage.js';
import type { CollectionConfig, CollectionInfo, SplitterConfig, VectorConfig } from './records.js';
import type { WriterLockOptions } from './writer-lock.js';

export interface RagStoreOptions {
  /** State directory; a collection lives in `<dir>/rag/<name>/`. @default '.fusion' */
  dir?: string;
  /** Embeds texts with a model (the RAG plugin passes `fusion.embed`). Without it, collections are lexical only. */
  embed?: (texts: string[], options: EmbedCallOptions & { model: string }) => Promise<number[][]>;
  /** Embedding model of new collections that name none. */
  defaultEmbeddingModel?: string;
  /** Vector cache shared by all collections (keys hold the model). @default an in-memory LRU of 10_000 */
  embeddingCache?: Keyv | false;
  /** Texts per embedding call. @default 64 */
  embeddingBatchSize?: number;
  /** Roots for file and folder sources; URL fetch policy. */
  sources?: SourceOptions;
  /**
   * Chooses a splitter in code (e.g. a {@link TokenSplitter} with a model's tokenizer) for a collection
   * and format; `undefined` keeps the collection's configured one.
   */
  splitter?: (config: CollectionConfig, format: DocumentFormat) => TextSplitter | undefined;
  /** See {@link CollectionOptions.onCommitStep}. */
  onCommitStep?: (step: CommitStep) => void | Promise<void>;
  /** See {@link CollectionOptions.writerLock}. */
  writerLock?: WriterLockOptions;
}

export interface CreateCollectionOptions {
  description?: string;
  /** @default { kind: 'auto', chunkSize: 1000, chunkOverlap: 200 } ('token': 256 and 32, `tokenizer` required) */
  splitter?: Partial<SplitterConfig>;
  /** `false` for lexical only. @default a vector index when the store can embed and a model is known */
  vector?: false | Partial<Omit<VectorConfig, 'dimensions'>>;
  /** @default { k1: 0.9, b: 0.4 } */
  bm25?: { k1?: number; b?: number };
  /** The id of the API key it belongs to (see {@link CollectionConfig.owner}). @default shared */
  owner?: string;
}

const SPLITTER_KINDS: readonly SplitterConfig['kind'][] = ['auto', 'recursive', 'markdown', 'token'];

/**
 * A new collection's splitter, with the defaults of its kind, checked (400 naming `splitter.*`); the
 * token splitter's tokenizer is checked and loaded by the caller.
 */
function splitterConfig(given: Partial<SplitterConfig> = {}): SplitterConfig {
  const refuse = (field: string, message: string) =>
    new InvalidRequestError(`'splitter.${field}' ${message}`, { param: `splitter.${field}` });
  const kind = given.kind ?? 'auto';
  if (!SPLITTER_KINDS.includes(kind)) throw refuse('kind', `must be one of ${SPLITTER_KINDS.join(', ')}.`);
  const token = kind === 'token';
  const chunkSize = given.chunkSize ?? (token ? 256 : 1000);
  const overlap = token ? 32 : 200;
  // Without an overlap, the default one when it fits the chunk size, else a fifth of a chunk.
  const chunkOverlap = given.chunkOverlap ?? (overlap < chunkSize ? overlap : Math.floor(chunkSize / 5));
  const config: SplitterConfig = { ...given, kind, chunkSize, chunkOverlap };
  if (!Number.isInteger(config.chunkSize) || config.chunkSize < 1)
    throw refuse('chunk_size', 'must be a positive integer.');
  if (
    !Number.isInteger(config.chunkOverlap) ||
    config.chunkOverlap < 0 ||
    config.chunkOverlap >= config.chunkSize
  )
    throw refuse('chunk_overlap', `must be an integer from 0 to ${config.chunkSize - 1}.`);
  if (!token) {
    if (config.tokenizer !== undefined) throw refuse('tokenizer', 'is for the token splitter (kind: token).');
    return config;
  }
  if (!config.tokenizer) throw refuse('tokenizer', "is required by the token splitter, e.g. 'gpt-4o'.");
  return config;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function checkName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidRequestError(
      'A collection name is 1-64 letters, digits, - or _, starting with a letter or digit',
      {
        code: 'invalid_collection_name',
        param: 'name',
      },
    );
  }
}

/**
 * The collections of one state directory. Collections are loaded on first use and kept open; every
 * method maps to one API route (`GET/POST/DELETE /api/rag/collections`, …), so routes stay thin.
 */
export class RagStore {
  readonly directory: string;
  readonly #options: RagStoreOptions;
  readonly #open = new Map<string, Promise<Collection>>();
  readonly #cache: Keyv | false;
  /** The stores of API keys' own collections, by owner (see {@link RagStore.ownedBy}). */
  readonly #owned = new Map<string, RagStore>();

  constructor(options: RagStoreOptions = {}) {
    this.#options = options;
    this.directory = join(resolve(options.dir ?? '.fusion'), 'rag');
    this.#cache =
      options.embeddingCache ??
      new Keyv({ store: new BoundedMap(10_000), serialize: undefined, deserialize: undefined });
  }

  /** Roots and URL policy of file and URL sources. */
  get sourceOptions(): SourceOptions {
    return this.#options.sources ?? {};
  }

  async createCollection(name: string, options: CreateCollectionOptions = {}): Promise<Collection> {
    checkName(name);
    const splitter = splitterConfig(options.splitter);
    // Loaded (without blocking) before splitting; a path is recorded as its absolute tokenizer.json.
    if (splitter.tokenizer)
      splitter.tokenizer = (await loadTokenizer(splitter.tokenizer, 'splitter.tokenizer')).tokenizer;
    const directory = join(this.directory, name);
    if (this.#open.has(name) || (await CollectionStorage.readManifest(directory))) {
      throw new FusionError({
        message: `Collection '${name}' exists`,
        code: 'collection_exists',
        status: 409,
        param: 'name',
      });
    }
    const model =
      options.vector === false ? undefined : (options.vector?.model ?? this.#options.defaultEmbeddingModel);
    if (options.vector && (!model || !this.#options.embed)) {
      throw new InvalidRequestError(
        'A vector collection needs an embedding model and a store that can embed',
        {
          param: 'vector.model',
        },
      );
    }
    const vector =
      model && this.#options.embed
        ? { M: 16, efConstruction: 200, ef: 100, ...options.vector, model }
        : undefined;
    const config: CollectionConfig = {
      name,
      ...(options.description ? { description: options.description } : {}),
      createdAt: new Date().toISOString(),
      splitter,
      ...(vector ? { vector } : {}),
      bm25: { k1: 0.9, b: 0.4, ...options.bm25 },
      ...(options.owner ? { owner: options.owner } : {}),
    };
    await mkdir(this.directory, { recursive: true });
    const opening = Collection.create(directory, config, this.#collectionOptions(config));
    this.#open.set(name, opening);
    opening.catch(() => this.#open.delete(name));
    return opening;
  }

  /** Summaries of every collection, from their manifests (collections are not loaded). */
  async listCollections(): Promise<CollectionInfo[]> {
    let names: string[];
    try {
      names = (await readdir(this.directory, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && NAME.test(entry.name))
        .map((entry) => entry.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const infos: CollectionInfo[] = [];
    for (const name of names.sort()) {
      const manifest = await CollectionStorage.readManifest(join(this.directory, name));
      if (!manifest) continue;
      const { config } = manifest;
      infos.push({
        name,
        ...(config.description ? { description: config.description } : {}),
        createdAt: config.createdAt,
        documents: manifest.counts.documents,
        chunks: manifest.counts.chunks,
        generation: manifest.generation,
        committedAt: manifest.committedAt,
        ...(config.vector ? { vector: config.vector } : {}),
        splitter: config.splitter,
        ...(config.owner ? { owner: config.owner } : {}),
      });
    }
    return infos;
  }

  /** An open collection; 404 when there is none of that name. */
  async getCollection(name: string): Promise<Collection> {
    checkName(name);
    let opening = this.#open.get(name);
    if (!opening) {
      opening = (async () => {
        const directory = join(this.directory, name);
        const manifest = await CollectionStorage.readManifest(directory);
        if (!manifest)
          throw new NotFoundError(`No collection '${name}'`, { code: 'collection_not_found', param: 'name' });
        // A log is replayed with the splitter: its tokenizer is loaded first, without blocking.
        const { tokenizer } = manifest.config.splitter ?? {};
        if (tokenizer && manifest.files.log && (manifest.log?.bytes ?? 0) > 0)
          await loadTokenizer(tokenizer, 'splitter.tokenizer').catch(() => undefined);
        return Collection.open(directory, this.#collectionOptions(manifest.config));
      })();
      this.#open.set(name, opening);
      opening.catch(() => this.#open.delete(name));
    }
    return opening;
  }

  /** Deletes a collection and its files; 404 when there is none. */
  async deleteCollection(name: string): Promise<void> {
    const collection = await this.getCollection(name);
    await collection.close();
    this.#open.delete(name);
    // Renamed first so a crash mid-removal never leaves a half-deleted collection that still lists.
    const trash = join(this.directory, `.deleted-${name}-${randomBytes(4).toString('hex')}`);
    await rename(join(this.directory, name), trash);
    await rm(trash, { recursive: true, force: true });
  }

  /**
   * The store of one API key's own collections, in `<dir>/rag-keys/<hash of the owner>/rag/`: names
   * are per key there, so a key never learns (by a 409) that another key uses a name. It shares this
   * store's options and embedding cache, and is closed with it.
   */
  ownedBy(owner: string): RagStore {
    let owned = this.#owned.get(owner);
    if (!owned) {
      const folder = createHash('sha256').update(owner).digest('hex').slice(0, 32);
      owned = new RagStore({
        ...this.#options,
        dir: join(dirname(this.directory), 'rag-keys', folder),
        embeddingCache: this.#cache,
      });
      this.#owned.set(owner, owned);
    }
    return owned;
  }

  /** Waits for pending writes of every open collection. */
  async close(): Promise<void> {
    await Promise.all([...this.#owned.values()].map((owned) => owned.close()));
    const opened = await Promise.allSettled(this.#open.values());
    await Promise.all(
      opened.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)),
    );
    this.#open.clear();
  }

  #collectionOptions(config: CollectionConfig): CollectionOptions {
    const { embed, splitter } = this.#options;
    const model = config.vector?.model;
    return {
      ...(splitter ? { splitter: (format: DocumentFormat) => splitter(config, format) } : {}),
      ...(this.#options.sources ? { sources: this.#options.sources } : {}),
      ...(this.#options.onCommitStep ? { onCommitStep: this.#options.onCommitStep } : {}),
      ...(this.#options.writerLock ? { writerLock: this.#options.writerLock } : {}),
      ...(embed && model
        ? {
            embedder: createCachedEmbedder({
              model,
              embed: (texts, callOptions) => embed(texts, { ...callOptions, model }),
              cache: this.#cache,
              ...(this.#options.embeddingBatchSize ? { batchSize: this.#options.embeddingBatchSize } : {}),
            }),
          }
        : {}),
    };
  }
}
