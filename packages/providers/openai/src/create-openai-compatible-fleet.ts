import {
  type CallOptions,
  type ChatChunk,
  type ChatRequest,
  type ChatResult,
  type EmbedRequest,
  type EmbedResult,
  type ForwardRequest,
  FusionError,
  type HealthStatus,
  type ModelInfo,
  UnavailableError,
} from '@fusionkit/core';
import { createOpenAICompatible, type OpenAICompatibleProvider } from './create-openai-compatible.js';
import type { OpenAICompatibleOptions } from './openai-compatible-options.js';

/** Options of {@link createOpenAICompatibleFleet}: one provider id, several hosts. */
export interface OpenAICompatibleFleetOptions extends Omit<OpenAICompatibleOptions, 'baseURL'> {
  /** The base URL of each host (mlx-openai-server on several Macs). @example ['http://mac1:8000/v1', 'http://mac2:8000/v1'] */
  baseURLs: string[];
}

/** One host of a fleet, as the fleet sees it. */
interface FleetHost {
  provider: OpenAICompatibleProvider;
  /** The last health report; `undefined` until the first check (then the host is tried). */
  health?: HealthStatus;
  /** Model ids it served at the last discovery. */
  models?: Set<string>;
  /** Calls this fleet sends it now. */
  inFlight: number;
}

/** The provider {@link createOpenAICompatibleFleet} returns, with the hosts' state for diagnostics. */
export interface OpenAICompatibleFleet extends OpenAICompatibleProvider {
  /** Each host: base URL, last status, upstream queue and running counts, calls in flight from here. */
  hosts(): { baseURL: string; status: HealthStatus['status'] | 'unknown'; busy: number; inFlight: number }[];
}

/**
 * Several OpenAI-compatible hosts serving the same models (mlx-openai-server on several Macs) as one
 * provider: its models are the union of the hosts'; each call goes to the least busy ready host
 * that serves the model (its `/v1/queue/stats` running + waiting, plus the calls this process sends
 * it), and a call that cannot reach a host marks the host down and goes to the next (before any
 * token of a stream). The orchestrator's health checks re-probe every host: one that went down
 * leaves the rotation, and rejoins by itself once its `/health` answers again.
 *
 * @example
 * const lab = createOpenAICompatibleFleet({ id: 'lab', baseURLs: ['http://mac1:8000/v1', 'http://mac2:8000/v1'] });
 */
export function createOpenAICompatibleFleet(options: OpenAICompatibleFleetOptions): OpenAICompatibleFleet {
  const { baseURLs, ...shared } = options;
  if (!Array.isArray(baseURLs) || baseURLs.length === 0) {
    throw new TypeError(`Fleet '${options.id}': baseURLs must list at least one base URL.`);
  }
  const hosts: FleetHost[] = baseURLs.map((baseURL) => ({
    provider: createOpenAICompatible({ ...shared, baseURL }),
    inFlight: 0,
  }));
  let turn = 0;

  const busy = (host: FleetHost) =>
    (host.health?.running ?? 0) + (host.health?.queueDepth ?? 0) + host.inFlight;
  const usable = (host: FleetHost, model: string) =>
    host.health?.status !== 'unhealthy' &&
    host.health?.status !== 'loading' &&
    (host.models === undefined || host.models.has(model));

  /** Ready hosts serving the model, least busy first (ties taken in turn). */
  const candidates = (model: string): FleetHost[] => {
    turn = (turn + 1) % hosts.length;
    const rotated = [...hosts.slice(turn), ...hosts.slice(0, turn)];
    return rotated.filter((host) => usable(host, model)).sort((left, right) => busy(left) - busy(right));
  };
  const noHost = (model: string) =>
    new UnavailableError(`No host of '${options.id}' serving '${model}' is up now.`, { retryAfterMs: 1000 });
  /** A host that cannot be reached leaves the rotation until a health check finds it up. */
  const unreachable = (error: unknown) =>
    error instanceof FusionError && (error.status === 502 || error.status === 503 || error.status === 504);
  const markDown = (host: FleetHost, error: unknown) => {
    host.health = { status: 'unhealthy', message: error instanceof Error ? error.message : String(error) };
  };

  async function withHost<TResult>(
    model: string,
    call: (host: FleetHost) => Promise<TResult>,
  ): Promise<TResult> {
    let lastError: unknown;
    for (const host of candidates(model)) {
      host.inFlight++;
      try {
        return await call(host);
      } catch (error) {
        if (!unreachable(error)) throw error;
        markDown(host, error);
        lastError = error;
      } finally {
        host.inFlight--;
      }
    }
    throw lastError ?? noHost(model);
  }

  return {
    specificationVersion: 'v1',
    id: options.id,
    baseURL: hosts[0]!.provider.baseURL,

    hosts: () =>
      hosts.map((host) => ({
        baseURL: host.provider.baseURL,
        status: host.health?.status ?? 'unknown',
        busy: busy(host),
        inFlight: host.inFlight,
      })),

    async models(modelOptions) {
      const results = await Promise.allSettled(hosts.map((host) => host.provider.models(modelOptions)));
      const union = new Map<string, ModelInfo>();
      results.forEach((result, index) => {
        const host = hosts[index]!;
        if (result.status === 'rejected') {
          markDown(host, result.reason);
          return;
        }
        host.models = new Set(result.value.map((model) => model.id));
        for (const model of result.value) {
          const known = union.get(model.id);
          if (!known) union.set(model.id, { ...model });
          // The fleet runs as many calls of a model at once as its hosts together.
          else if (known.concurrency !== undefined && model.concurrency !== undefined) {
            known.concurrency += model.concurrency;
          }
        }
      });
      const failed = results.find((result) => result.status === 'rejected');
      if (union.size === 0 && failed) throw (failed as PromiseRejectedResult).reason;
      return [...union.values()];
    },

    doChat(request: ChatRequest, callOptions: CallOptions): Promise<ChatResult> {
      return withHost(request.model, (host) => host.provider.doChat(request, callOptions));
    },

    async *doStream(request: ChatRequest, callOptions: CallOptions): AsyncIterable<ChatChunk> {
      // Pick the host at the first chunk: a host that fails before it is replaced by the next.
      const { host, iterator, first } = await withHost(request.model, async (candidate) => {
        const stream = candidate.provider.doStream(request, callOptions)[Symbol.asyncIterator]();
        const head = await stream.next();
        candidate.inFlight++;
        return { host: candidate, iterator: stream, first: head };
      });
      try {
        if (first.done) return;
        yield first.value;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      } finally {
        host.inFlight--;
        await iterator.return?.();
      }
    },

    doEmbed(request: EmbedRequest, callOptions: CallOptions): Promise<EmbedResult> {
      return withHost(request.model, (host) => host.provider.doEmbed(request, callOptions));
    },

    doForward(request: ForwardRequest, callOptions: CallOptions): Promise<Response> {
      return withHost(request.model, async (host) => {
        const response = await host.provider.doForward(request, callOptions);
        // An unreachable or overloaded host passes the call on, as for chats.
        if (response.status === 502 || response.status === 503 || response.status === 504) {
          await response.body?.cancel().catch(() => {});
          throw new UnavailableError(`Host ${host.provider.baseURL} answered ${response.status}.`);
        }
        return response;
      });
    },

    async health(healthOptions) {
      const reports = await Promise.all(
        hosts.map(async (host) => {
          host.health = await host.provider.health(healthOptions);
          return host.health;
        }),
      );
      const ready = reports.filter((report) => report.status === 'ready');
      const summary: HealthStatus = {
        status:
          ready.length > 0
            ? 'ready'
            : reports.some((report) => report.status === 'loading')
              ? 'loading'
              : 'unhealthy',
        queueDepth: ready.reduce((sum, report) => sum + (report.queueDepth ?? 0), 0),
        running: ready.reduce((sum, report) => sum + (report.running ?? 0), 0),
      };
      if (ready.length < hosts.length) {
        summary.message = `${ready.length} of ${hosts.length} hosts ready`;
      }
      return summary;
    },

    async close() {
      await Promise.all(hosts.map((host) => host.provider.close()));
    },
  };
}
