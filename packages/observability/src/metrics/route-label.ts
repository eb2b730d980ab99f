/** Paths whose last segments are ids (models contain slashes): their label keeps only the prefix. */
const PARAMETER_PREFIXES: [prefix: string, label: string][] = [
  ['/v1/models/', '/v1/models/{model}'],
  ['/api/fusion/traces/', '/api/fusion/traces/{id}'],
  ['/v1/jobs/', '/v1/jobs/{id}'],
  ['/api/jobs/', '/api/jobs/{id}'],
];

/** Distinct route labels kept before the rest count as `other`. @default 64 */
const DEFAULT_MAX_ROUTES = 64;

/**
 * The `route` label of a request path. A metric's label values must stay few, whatever clients
 * send: paths no route serves share one label, ids inside known paths collapse to a placeholder,
 * and past `maxRoutes` distinct paths (plugins' routes with ids of their own) the rest are `other`.
 */
export class RouteLabels {
  readonly #seen = new Set<string>();
  readonly #maxRoutes: number;

  constructor(maxRoutes = DEFAULT_MAX_ROUTES) {
    this.#maxRoutes = maxRoutes;
  }

  /** The label of `path`; `routed` is false when no route answered it (404 `not_found`). */
  of(path: string, routed = true): string {
    for (const [prefix, label] of PARAMETER_PREFIXES) {
      if (path.startsWith(prefix) && path.length > prefix.length) return label;
    }
    if (!routed) return 'unmatched';
    if (this.#seen.has(path)) return path;
    if (this.#seen.size >= this.#maxRoutes) return 'other';
    this.#seen.add(path);
    return path;
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The `method` label: the standard methods, else `other` (an adapter may pass any token). */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}
