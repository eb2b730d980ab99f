import {
  type ChatRequest,
  type ChatResult,
  FusionError,
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
} from '@fusionkit/core';
import type { Collection } from '../store/collection.js';
import type { CreateCollectionOptions, RagStore } from '../store/rag-store.js';
import type { CollectionInfo } from '../store/records.js';
import type { CollectionPipelines } from './collection-pipelines.js';
import type { JobRunner } from './core-jobs.js';
import type { RagFusion } from './rag-plugin-options.js';
import { withParam } from './request-fields.js';

/** What the routes of the plugin share. */
export interface RagServiceOptions {
  store: RagStore;
  jobs: JobRunner;
  pipelines: CollectionPipelines;
  fusion: () => RagFusion | undefined;
  maxBodyBytes: number;
  maxUploadBytes: number;
  asyncThreshold: { sources: number; bytes: number };
  webhookOrigins: readonly string[];
  /** Folders that paths in requests (ingested files, a `tokenizer.json`) may name. */
  roots: readonly string[];
  webhookSecret?: string;
  /** Whether new collections get a vector index. */
  canEmbed: boolean;
  /**
   * Answers from a collection in process, for collections that are served as no model (those owned
   * by an API key); absent without a generator.
   */
  answerInProcess?: (
    collection: Collection,
    request: ChatRequest,
    context: { requestId: string; signal: AbortSignal; apiKeyId?: string },
  ) => Promise<ChatResult>;
}

/** The API key of a request, when the server requires keys (`admin` for an operator's key). */
export type RequestKey = { id: string; admin?: true } | undefined;

/**
 * Whether a key may use a collection: its owner may, and every key may use a shared collection (one
 * without an owner). Without API keys every collection is visible.
 */
export function isVisibleTo(owner: string | undefined, apiKey: RequestKey): boolean {
  return owner === undefined || apiKey === undefined || owner === apiKey.id;
}

/**
 * The refusal of a write to a shared collection (one made without a key: `fusion ingest`, code) by a
 * key that is not an admin key: every key reads it, so no one key may change or delete it for all.
 */
export function readOnlyError(name: string, param = 'collection'): PermissionDeniedError {
  return new PermissionDeniedError(
    `Collection '${name}' was made without an API key: it is shared and read-only to keys that are not admin keys (apiKeys entries with admin: true).`,
    { code: 'collection_read_only', param },
  );
}

/** The store, jobs and pipelines behind `/api/rag/*`, with the checks every route needs. */
export class RagService {
  readonly store: RagStore;
  readonly jobs: JobRunner;
  readonly pipelines: CollectionPipelines;
  readonly options: RagServiceOptions;

  constructor(options: RagServiceOptions) {
    this.options = options;
    this.store = options.store;
    this.jobs = options.jobs;
    this.pipelines = options.pipelines;
  }

  /**
   * An open collection by the name a request gives in `param`: 400 for a bad name, 404 when there is
   * none or when it belongs to another API key (the same answer: its name is not disclosed either).
   * A shared collection found on disk (another process made it) starts being served as a model. To
   * `write` (ingest, delete), a shared collection needs no key or an admin key: 403 otherwise.
   */
  async open(
    name: unknown,
    param = 'collection',
    apiKey?: RequestKey,
    access: 'read' | 'write' = 'read',
  ): Promise<Collection> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidRequestError(`'${param}' is required: the name of a collection.`, { param });
    }
    let collection: Collection;
    try {
      collection =
        (apiKey ? await this.#ownCollection(name, apiKey) : undefined) ??
        (await this.store.getCollection(name));
    } catch (error) {
      throw withParam(error, param);
    }
    const { owner } = collection.config;
    if (!isVisibleTo(owner, apiKey)) {
      throw new NotFoundError(`No collection '${name}'`, { code: 'collection_not_found', param });
    }
    if (owner === undefined) this.pipelines.add(name);
    if (access === 'write' && owner === undefined && apiKey !== undefined && apiKey.admin !== true) {
      throw readOnlyError(name, param);
    }
    return collection;
  }

  /** A key's own collection of that name (in its own store), or undefined when it has none. */
  async #ownCollection(name: string, apiKey: { id: string }): Promise<Collection | undefined> {
    try {
      return await this.store.ownedBy(apiKey.id).getCollection(name);
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Creates a collection: with a key, in the key's own store, so that names are per key and a name
   * another key uses answers nothing of it. 409 for a name the asker already sees (its own, or a
   * shared one, which it would no longer reach by name).
   */
  async create(name: string, options: CreateCollectionOptions, apiKey: RequestKey): Promise<Collection> {
    if (!apiKey) {
      const collection = await this.store.createCollection(name, options);
      this.pipelines.add(name);
      return collection;
    }
    const shadowed = (await this.store.listCollections()).find(
      (info) => info.name === name && isVisibleTo(info.owner, apiKey),
    );
    if (shadowed) {
      throw new FusionError({
        message: `Collection '${name}' exists`,
        code: 'collection_exists',
        status: 409,
        param: 'name',
      });
    }
    return this.store.ownedBy(apiKey.id).createCollection(name, { ...options, owner: apiKey.id });
  }

  /** The collections a request may use: a key's own, then the shared ones it does not shadow. */
  async list(apiKey: RequestKey): Promise<CollectionInfo[]> {
    const top = await this.store.listCollections();
    if (!apiKey) return top;
    const own = await this.store.ownedBy(apiKey.id).listCollections();
    const names = new Set(own.map((info) => info.name));
    return [...own, ...top.filter((info) => !names.has(info.name) && isVisibleTo(info.owner, apiKey))];
  }

  /** Deletes a collection a request may write to (see {@link open}), with its jobs. */
  async remove(name: unknown, param: string, apiKey: RequestKey): Promise<void> {
    const collection = await this.open(name, param, apiKey, 'write');
    const { owner } = collection.config;
    this.cancelJobsOf(collection.name, owner);
    const own = apiKey ? await this.#ownCollection(collection.name, apiKey) : undefined;
    await (own ? this.store.ownedBy(apiKey!.id) : this.store).deleteCollection(collection.name);
    if (owner === undefined) this.pipelines.remove(collection.name);
  }

  /**
   * Serves a model for every shared collection on disk, and none for collections gone. A collection
   * owned by an API key is served as no model: the chat routes do not tell strategies which key asks,
   * so `rag/<name>` would answer any key. Its owner asks it through `POST /api/rag/answer`.
   */
  async sync(): Promise<void> {
    const infos = await this.store.listCollections();
    this.pipelines.sync(infos.filter((info) => info.owner === undefined).map((info) => info.name));
  }

  /** Checks a client's webhook URL against the allowed origins. */
  webhook(url: string | undefined): { url: string; secret?: string } | undefined {
    if (url === undefined) return undefined;
    let origin: string;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError('scheme');
      origin = parsed.origin;
    } catch {
      throw new InvalidRequestError("'webhook' must be an http(s) URL.", { param: 'webhook' });
    }
    if (!this.options.webhookOrigins.includes(origin)) {
      throw new InvalidRequestError(
        `Webhooks to ${origin} are not allowed; the server allows ${
          this.options.webhookOrigins.length > 0 ? this.options.webhookOrigins.join(', ') : 'none'
        } (ragPlugin's webhookOrigins).`,
        { code: 'webhook_not_allowed', param: 'webhook' },
      );
    }
    return { url, ...(this.options.webhookSecret ? { secret: this.options.webhookSecret } : {}) };
  }

  /** Cancels the jobs working on a collection (before it is deleted); a key's, for its own one. */
  cancelJobsOf(collection: string, owner?: string): void {
    for (const job of this.jobs.list()) {
      if (
        job.metadata?.collection === collection &&
        job.metadata?.collection_owner === owner &&
        (job.status === 'queued' || job.status === 'running')
      ) {
        this.jobs.cancel(job.id);
      }
    }
  }
}
