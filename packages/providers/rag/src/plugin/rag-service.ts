import { InvalidRequestError } from '@fusionkit/core';
import type { Collection } from '../store/collection.js';
import type { RagStore } from '../store/rag-store.js';
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
  webhookSecret?: string;
  /** Whether new collections get a vector index. */
  canEmbed: boolean;
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
   * none. A collection found on disk (another process made it) starts being served as a model.
   */
  async open(name: unknown, param = 'collection'): Promise<Collection> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidRequestError(`'${param}' is required: the name of a collection.`, { param });
    }
    try {
      const collection = await this.store.getCollection(name);
      this.pipelines.add(name);
      return collection;
    } catch (error) {
      throw withParam(error, param);
    }
  }

  /** Serves a model for every collection on disk, and none for collections gone. */
  async sync(): Promise<void> {
    this.pipelines.sync((await this.store.listCollections()).map((info) => info.name));
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

  /** Cancels the jobs working on a collection (before it is deleted). */
  cancelJobsOf(collection: string): void {
    for (const job of this.jobs.list()) {
      if (job.metadata?.collection === collection && (job.status === 'queued' || job.status === 'running')) {
        this.jobs.cancel(job.id);
      }
    }
  }
}
