import { type PluginApi, type PluginV1, type RouteTarget, UnavailableError } from '@fusionkit/core';
import type { EmbedCallOptions } from '../embedding/embedder.js';
import { RagStore } from '../store/rag-store.js';
import { answerInProcess } from './answer-in-process.js';
import { CollectionPipelines } from './collection-pipelines.js';
import { collectionRoutes } from './collection-routes.js';
import { JobRunner, jobRoutes } from './core-jobs.js';
import { ingestJob, ingestRoute } from './ingest-route.js';
import { eventsOf } from './observed-search.js';
import { queryRoutes } from './query-routes.js';
import { ragAnswerStrategy } from './rag-answer-strategy.js';
import type { RagFusion, RagPipelineDefinition, RagPluginOptions } from './rag-plugin-options.js';
import { isVisibleTo, RagService } from './rag-service.js';

/** The RAG plugin, with the store and job runner it serves (the store exists once it is set up). */
export interface RagPlugin extends PluginV1 {
  /** The collections; throws before `setup`. */
  readonly store: RagStore;
  readonly jobs: JobRunner;
  /** Which collections are loaded, loading or failed to load (`GET /api/rag/status`). */
  status(): RagLoadStatus;
  /** Resolves once the collections found at setup are loaded (or failed to). */
  readonly loaded: Promise<RagLoadStatus>;
}

/** Load state of the collections a plugin serves. */
export interface RagLoadStatus {
  /** True once every collection found at setup is loaded or failed (always true with `load: 'lazy'`). */
  ready: boolean;
  collections: { name: string; status: 'loading' | 'ready' | 'failed'; error?: string; loadMs?: number }[];
}

/** `api.embed` and `api.chat`, when the orchestrator's plugin API offers them (a proposed addition). */
function fusionOfApi(api: PluginApi): RagFusion | undefined {
  const candidate = api as unknown as Partial<RagFusion>;
  if (typeof candidate.embed !== 'function' || typeof candidate.chat !== 'function') return undefined;
  return { embed: candidate.embed.bind(api), chat: candidate.chat.bind(api) };
}

function generatorTargets(generator: RagPluginOptions['generator']): (string | RouteTarget)[] {
  if (generator === undefined) return [];
  return Array.isArray(generator) ? generator : [generator];
}

function normalizeOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    try {
      return new URL(origin).origin;
    } catch {
      throw new TypeError(`ragPlugin: webhookOrigins holds '${origin}', which is not a URL.`);
    }
  });
}

/**
 * Retrieval over your documents as a plugin: collections persisted under `<dir>/rag/`, the
 * `/api/rag/*` API (collections, ingest with jobs for large ones, search, documents, answers), jobs
 * under `/api/jobs/*`, and, with a `generator`, every collection served as the model
 * `rag/<collection>` that answers with `[n]` citations and a `citations` array.
 *
 * @example
 * const fusion = createFusion({ providers: [lab] });
 * await fusion.use(ragPlugin({
 *   fusion,
 *   roots: ['./docs'],
 *   embeddingModel: 'lab/bge-small-en',
 *   generator: 'lab/qwen3-4b',
 * }));
 * // POST /api/rag/collections { name: 'docs' }, POST /api/rag/ingest { collection: 'docs', paths: ['.'] },
 * // then any OpenAI client: model 'rag/docs'.
 */
export function ragPlugin(options: RagPluginOptions = {}): RagPlugin {
  const jobs = options.jobs ?? new JobRunner();
  const webhookOrigins = normalizeOrigins(options.webhookOrigins ?? []);
  const targets = generatorTargets(options.generator);
  let store: RagStore | undefined;
  let pipelines: CollectionPipelines | undefined;
  let fromApi: RagFusion | undefined;
  let undefine: (() => void) | undefined;
  const loading = new Map<string, RagLoadStatus['collections'][number]>();
  const status = (): RagLoadStatus => {
    const collections = [...loading.values()].map((entry) => ({ ...entry }));
    return { ready: collections.every((entry) => entry.status !== 'loading'), collections };
  };
  let markLoaded: (status: RagLoadStatus) => void = () => {};
  const loaded = new Promise<RagLoadStatus>((resolve) => {
    markLoaded = resolve;
  });
  const fusion = () => (typeof options.fusion === 'function' ? options.fusion() : options.fusion) ?? fromApi;

  const embedWithFusion = async (
    texts: string[],
    { model, ...callOptions }: EmbedCallOptions & { model: string },
  ) => {
    const orchestrator = fusion();
    if (!orchestrator) throw new UnavailableError('The RAG plugin has no orchestrator to embed with yet.');
    // The request id and the asking key go with the call: its tokens count against that key.
    const result = await orchestrator.embed({ model, input: texts }, callOptions);
    return [...result.data].sort((left, right) => left.index - right.index).map((item) => item.embedding);
  };

  return {
    specificationVersion: 'v1',
    name: 'rag',
    get store(): RagStore {
      if (!store) throw new Error('The RAG plugin is not set up yet: pass it to createFusion or fusion.use.');
      return store;
    },
    jobs,
    status,
    loaded,
    async setup(api) {
      fromApi = fusionOfApi(api);
      const embed = options.embed ?? (options.fusion || fromApi ? embedWithFusion : undefined);
      if (options.embeddingModel && !embed) {
        throw new TypeError(
          "ragPlugin: 'embeddingModel' needs a way to embed: pass 'fusion' (e.g. () => fusion) or 'embed'.",
        );
      }
      store = new RagStore({
        dir: options.dir ?? '.fusion',
        ...options.store,
        ...(embed ? { embed } : {}),
        ...(options.embeddingModel ? { defaultEmbeddingModel: options.embeddingModel } : {}),
        sources: {
          ...(options.roots ? { roots: options.roots } : {}),
          fetch: { ...options.fetch, allowPrivateNetwork: options.allowPrivateNetwork === true },
        },
      });
      const opened = store;
      const strategyOptions = {
        events: () => eventsOf(fusion()),
        ...(options.answer?.k ? { k: options.answer.k } : {}),
        ...(options.answer?.rerank ? { rerank: options.answer.rerank } : {}),
        ...(options.answer?.systemPrompt ? { systemPrompt: options.answer.systemPrompt } : {}),
        ...(options.answer?.maxContextChars ? { maxContextChars: options.answer.maxContextChars } : {}),
        ...(options.answer?.rewrite ? { rewrite: options.answer.rewrite } : {}),
      };
      const strategy = ragAnswerStrategy({
        ...strategyOptions,
        collection: (name) => opened.getCollection(name),
      });
      const definition = (collection: string): RagPipelineDefinition => ({
        name: `rag/${collection}`,
        description: `Answers from the collection '${collection}' with cited sources.`,
        strategy,
        options: { collection, ...(options.answer?.mode ? { mode: options.answer.mode } : {}) },
        targets,
        ...(options.limits ? { limits: options.limits } : {}),
        capabilities: { chat: true },
      });
      pipelines = new CollectionPipelines(api, targets.length > 0 ? definition : undefined);
      const inProcess =
        targets.length > 0
          ? answerInProcess({
              strategyFor: (collection) =>
                ragAnswerStrategy({ ...strategyOptions, collection: async () => collection }),
              targets,
              fusion,
              ...(options.answer?.mode ? { options: { mode: options.answer.mode } } : {}),
            })
          : undefined;
      const service = new RagService({
        store,
        jobs,
        pipelines,
        fusion,
        maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
        maxUploadBytes: options.maxUploadBytes ?? 32 * 1024 * 1024,
        asyncThreshold: {
          sources: options.asyncThreshold?.sources ?? 20,
          bytes: options.asyncThreshold?.bytes ?? 1024 * 1024,
        },
        webhookOrigins,
        roots: options.roots ?? [],
        ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}),
        canEmbed: Boolean(embed && options.embeddingModel),
        ...(inProcess ? { answerInProcess: inProcess } : {}),
      });
      await service.sync();
      undefine = jobs.define('rag.ingest', ingestJob(service));
      // A runner with a store resumes the ingests a crash cut off, now that their kind is defined.
      await jobs.restore();
      const routes = [
        ...collectionRoutes(service),
        ...queryRoutes(service),
        ...(options.jobRoutes === false ? [] : jobRoutes(jobs, { prefixes: ['/api/jobs'] })),
      ];
      for (const [method, path, handler] of routes) api.route(method, path, handler);
      api.route('GET', '/api/rag/status', async (_request, { apiKey }) => {
        const current = status();
        // With API keys on, a key hears only of the collections it may use.
        // The load statuses are of the shared folder's collections: those a key may see there.
        const visible = apiKey
          ? new Set(
              (await opened.listCollections())
                .filter((info) => isVisibleTo(info.owner, apiKey))
                .map((info) => info.name),
            )
          : undefined;
        const collections = visible
          ? current.collections.filter((entry) => visible.has(entry.name))
          : current.collections;
        return Response.json(
          { object: 'rag.status', ...current, collections },
          { headers: { 'cache-control': 'no-store' } },
        );
      });
      // `GET /health` and `/health/ready`: not ready while collections load at startup. A collection
      // that failed to load is counted but does not hold readiness back (it would never come). Counts,
      // not names: /health needs no key, and collections may belong to keys (`/api/rag/status` names them).
      api.registerHealthCheck({
        name: 'rag',
        check: () => {
          const { ready, collections } = status();
          const count = (state: string) => collections.filter((entry) => entry.status === state).length;
          return { ready, loading: count('loading'), failed: count('failed') };
        },
      });
      if (options.load === 'startup') {
        // In the background: the server answers meanwhile, and a request for a collection still
        // loading waits for that one load rather than starting another.
        const names = (await opened.listCollections()).map((info) => info.name);
        for (const name of names) loading.set(name, { name, status: 'loading' });
        void Promise.all(
          names.map(async (name) => {
            const started = performance.now();
            try {
              await opened.getCollection(name);
              loading.set(name, { name, status: 'ready', loadMs: Math.round(performance.now() - started) });
            } catch (error) {
              // Never the server's paths to a client.
              const message = String((error as Error)?.message ?? error).replaceAll(
                opened.directory,
                '<rag>',
              );
              loading.set(name, { name, status: 'failed', error: message });
            }
          }),
        ).then(() => markLoaded(status()));
      } else {
        markLoaded(status());
      }
      // Uploads come as multipart forms; the core's cross-site guard still checks their Origin.
      api.route('POST', '/api/rag/ingest', ingestRoute(service), { accepts: ['multipart/form-data'] });
    },
    async teardown() {
      pipelines?.clear();
      undefine?.();
      if (!options.jobs) await jobs.close();
      await store?.close();
    },
  };
}
