import type { RouterV1, RouteTarget, TargetState } from '../spec/router/v1/router-v1.js';
import { throwIfAborted } from '../util/abort.js';
import { lastUserText } from './estimate-tokens.js';
import { orderTargetsByHealth, type TargetHealthOptions, toTargets } from './route-health.js';

/** One semantic route: where requests like its examples go. */
export interface SemanticRoute {
  /** @example 'code' */
  name: string;
  /** Targets of the route, best first. */
  targets: readonly (string | RouteTarget)[];
  /** Example user messages of the route. @example ['fix this stack trace', 'write a SQL query'] */
  examples: readonly string[];
}

/** Embeds texts; any embedding model of the registry fits (`fusion.embed`). */
export type EmbedTexts = (texts: string[], signal?: AbortSignal) => Promise<number[][]>;

/** Options of {@link semanticRouter}. */
export interface SemanticRouterOptions extends TargetHealthOptions {
  routes: readonly SemanticRoute[];
  embed: EmbedTexts;
  /**
   * Least cosine similarity between the last user message and a route's closest example for the
   * route to apply. It depends on the embedding model; tune it on sample prompts.
   * @example 0.75
   */
  threshold: number;
  /**
   * Targets when no route clears the threshold, when the chosen route has no healthy target, or when
   * embedding fails.
   * @default every candidate, in candidate order
   */
  defaultTargets?: readonly (string | RouteTarget)[];
  /**
   * What an embedding failure does: route to the default targets, or fail the request.
   * @default 'default'
   */
  onEmbedError?: 'default' | 'throw';
  /**
   * Told each decision: the route taken (`undefined` for the default) and the best similarity
   * (`NaN` when nothing was embedded), for logs and traces.
   * @default none
   */
  onDecision?: (decision: { route: string | undefined; similarity: number }) => void;
}

/** A route with unit-length example vectors, ready for dot products. */
interface EmbeddedRoute {
  name: string;
  targets: RouteTarget[];
  vectors: number[][];
}

function normalize(vector: readonly number[]): number[] {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return vector.map((value) => value / norm);
}

function dot(left: readonly number[], right: readonly number[]): number {
  if (left.length !== right.length) throw new RangeError('semanticRouter: embedding dimensions differ');
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}

/**
 * Routes by meaning: embeds the last user message and compares it (cosine) with each route's
 * examples; the route with the closest example wins if it clears `threshold`, else the default
 * targets. The examples are embedded once, on the first request, in one batch, and cached (a failed
 * batch is retried on the next request). Health-aware.
 *
 * @example
 * semanticRouter({
 *   routes: [{ name: 'code', targets: ['lab/qwen-coder'], examples: ['fix this bug', 'write a regex'] }],
 *   embed: async (texts) => (await fusion.embed({ model: 'mlx/bge-small', input: texts })).data.map((e) => e.embedding),
 *   threshold: 0.75,
 * })
 */
export function semanticRouter(options: SemanticRouterOptions): RouterV1 {
  const defaultTargets = options.defaultTargets && toTargets(options.defaultTargets);
  let embedded: Promise<EmbeddedRoute[]> | undefined;
  // Shared by every request, so not tied to the signal of the one that happened to start it.
  const embedRoutes = async (): Promise<EmbeddedRoute[]> => {
    const texts = options.routes.flatMap((route) => route.examples);
    const vectors = await options.embed(texts);
    if (vectors.length !== texts.length) throw new RangeError('semanticRouter: embed returned a wrong count');
    let offset = 0;
    return options.routes.map((route) => {
      const own = vectors.slice(offset, (offset += route.examples.length));
      return { name: route.name, targets: toTargets(route.targets), vectors: own.map(normalize) };
    });
  };
  const fallback = (candidates: readonly TargetState[]) =>
    defaultTargets
      ? orderTargetsByHealth(defaultTargets, candidates, options)
      : orderTargetsByHealth(
          candidates.map((state) => ({ model: state.model })),
          candidates,
          options,
        );
  return {
    specificationVersion: 'v1',
    name: 'semantic',
    async doRoute(context) {
      const text = lastUserText(context.request);
      if (!text.trim()) return fallback(context.candidates);
      let best: EmbeddedRoute | undefined;
      let bestScore = Number.NaN;
      try {
        if (!embedded) {
          embedded = embedRoutes();
          embedded.catch(() => {
            embedded = undefined;
          });
        }
        const [routes, [query]] = await Promise.all([embedded, options.embed([text], context.signal)]);
        if (!query) throw new RangeError('semanticRouter: embed returned no vector');
        const unit = normalize(query);
        bestScore = Number.NEGATIVE_INFINITY;
        for (const route of routes) {
          for (const vector of route.vectors) {
            const score = dot(unit, vector);
            if (score > bestScore) [bestScore, best] = [score, route];
          }
        }
        if (bestScore < options.threshold) best = undefined;
      } catch (error) {
        throwIfAborted(context.signal);
        if (options.onEmbedError === 'throw') throw error;
      }
      const routed = best ? orderTargetsByHealth(best.targets, context.candidates, options) : [];
      const taken = routed.length > 0 ? best : undefined;
      options.onDecision?.({ route: taken?.name, similarity: bestScore });
      return taken ? routed : fallback(context.candidates);
    },
  };
}
