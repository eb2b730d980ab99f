import type { ModelRegistry } from '../registry/model-registry.js';
import type { TargetHealth } from '../resilience/target-health.js';
import type { HealthCheck } from '../spec/plugin/v1/plugin-v1.js';

/** What `GET /health` answers. */
export interface HealthReport {
  /** `ok`: at least one model ready; `unavailable`: none; `draining`: shutting down. */
  status: 'ok' | 'unavailable' | 'draining';
  /**
   * `status` is `ok` and every plugin check is ready: what `GET /health/ready` answers 200 for. While a
   * plugin is still loading (RAG collections at startup), `status` can be `ok` (chats are served)
   * with `ready: false`.
   */
  ready: boolean;
  /** Plugins' readiness checks by name. @example { rag: { ready: false, loading: ['docs'] } } */
  checks?: Record<string, { ready: boolean } & Record<string, unknown>>;
  /** Per-model status and load. */
  models: Record<
    string,
    {
      status: 'ready' | 'loading' | 'unhealthy';
      loaded?: boolean;
      in_use: number;
      /** Circuit breaker of the model as a pipeline target. */
      circuit: 'closed' | 'open' | 'half-open';
      message?: string;
    }
  >;
  /** Per-provider health, as last checked. */
  providers: Record<
    string,
    {
      status: 'ready' | 'loading' | 'unhealthy';
      message?: string;
      queue_depth?: number;
      warmed_up?: boolean;
      latency_ms?: number;
    }
  >;
  /** A hint for operators when nothing can serve. */
  message?: string;
}

/** The report of the registry's models and providers, their circuits, and whether anything can serve. */
export function buildHealthReport(
  registry: ModelRegistry,
  targetHealth: TargetHealth,
  closing: boolean,
  healthChecks: Iterable<HealthCheck> = [],
): HealthReport {
  const checks: NonNullable<HealthReport['checks']> = {};
  let checksReady = true;
  for (const healthCheck of healthChecks) {
    let result: { ready: boolean } & Record<string, unknown>;
    try {
      result = healthCheck.check();
    } catch (error) {
      result = { ready: false, error: error instanceof Error ? error.message : String(error) };
    }
    checks[healthCheck.name] = result;
    if (result.ready !== true) checksReady = false;
  }
  const withChecks = Object.keys(checks).length > 0 ? { checks } : {};
  const models: HealthReport['models'] = {};
  let ready = 0;
  for (const model of registry.list()) {
    if (model.status === 'ready') ready++;
    const entry: HealthReport['models'][string] = {
      status: model.status,
      in_use: model.inUse,
      circuit: targetHealth.circuit(model.id),
    };
    if (model.info.loaded !== undefined) entry.loaded = model.info.loaded;
    if (model.statusMessage) entry.message = model.statusMessage;
    models[model.id] = entry;
  }
  const providers: HealthReport['providers'] = {};
  for (const provider of registry.providers()) {
    const health = registry.health(provider.id);
    const entry: HealthReport['providers'][string] = { status: health?.status ?? 'loading' };
    if (health?.message) entry.message = health.message;
    if (health?.queueDepth !== undefined) entry.queue_depth = health.queueDepth;
    if (health?.warmedUp !== undefined) entry.warmed_up = health.warmedUp;
    if (health?.latencyMs !== undefined) entry.latency_ms = health.latencyMs;
    providers[provider.id] = entry;
  }
  if (closing) {
    return {
      status: 'draining',
      ready: false,
      models,
      providers,
      ...withChecks,
      message: 'The server is shutting down.',
    };
  }
  if (ready > 0) return { status: 'ok', ready: checksReady, models, providers, ...withChecks };
  return {
    status: 'unavailable',
    ready: false,
    models,
    providers,
    ...withChecks,
    message: unavailableMessage(registry, providers),
  };
}

/** Why nothing can serve: no provider at all, or the providers that are down and why. */
function unavailableMessage(registry: ModelRegistry, providers: HealthReport['providers']): string {
  const ids = Object.keys(providers);
  if (ids.length === 0)
    return 'No model is configured. Set FUSION_UPSTREAMS=name=http://host:port/v1 or add a provider in fusion.config.';
  const down = ids.filter((id) => providers[id]!.status === 'unhealthy');
  if (registry.list().length === 0 && down.length > 0) {
    const reasons = down.map((id) => {
      const message = providers[id]!.message?.replace(/\.$/, '');
      return `provider '${id}' has listed no model${message ? ` (${message})` : ''}`;
    });
    return `No model yet: ${reasons.join('; ')}. Models are served once their provider answers.`;
  }
  return 'No model is ready yet.';
}
