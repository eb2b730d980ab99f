import type { FusionError } from '../errors/fusion-error.js';
import type { RouteHandler, RouteOptions } from '../spec/plugin/v1/plugin-v1.js';

/** A route as the built-in route lists give it: method, path, handler and its options. */
export type RouteEntry = [method: string, path: string, handler: RouteHandler, options?: RouteOptions];

/** A route's error body maker (`RouteOptions.formatError`). */
export type ErrorFormatter = (error: FusionError) => unknown;

interface Route {
  method: string;
  /** Literal segments, `:name` parameters, and a last `*name` that takes the rest of the path. */
  segments: string[];
  handler: RouteHandler;
}

/** The result of looking up a path. */
export type RouteMatch =
  | { kind: 'found'; handler: RouteHandler; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/**
 * Method and path dispatch for `handle`. Static paths are one map lookup; parametrised paths are
 * matched segment by segment. `*rest` takes the remainder (model ids contain slashes).
 */
export class RouteTable {
  readonly #static = new Map<string, Map<string, RouteHandler>>();
  readonly #dynamic: Route[] = [];
  /** Media types of bodies routes take besides JSON, by the handler registered (see `acceptsOf`). */
  readonly #accepts = new WeakMap<RouteHandler, readonly string[]>();
  /** Error body makers of routes that declare one, by the handler registered (see `formatErrorOf`). */
  readonly #formatError = new WeakMap<RouteHandler, ErrorFormatter>();
  /** `METHOD path` of the static routes served without an API key (`RouteOptions.public`). */
  readonly #public = new Set<string>();

  add(method: string, path: string, handler: RouteHandler, options?: RouteOptions): () => void {
    if (options?.accepts?.length || options?.formatError) {
      // A handler of its own per registration, so that the same function may be added twice differently.
      const own = handler;
      handler = (request, context) => own(request, context);
      if (options.accepts?.length) {
        this.#accepts.set(
          handler,
          options.accepts.map((type) => type.trim().toLowerCase()),
        );
      }
      if (options.formatError) this.#formatError.set(handler, options.formatError);
    }
    const upper = method.toUpperCase();
    const isStatic = !path.includes(':') && !path.includes('*');
    if (options?.public && (!isStatic || !['GET', 'HEAD'].includes(upper))) {
      throw new Error(`Route ${upper} ${path}: only static GET routes may be public.`);
    }
    if (isStatic) {
      let methods = this.#static.get(path);
      if (!methods) this.#static.set(path, (methods = new Map()));
      if (methods.has(upper)) throw new Error(`Route ${upper} ${path} is already registered.`);
      methods.set(upper, handler);
      const key = `${upper} ${path}`;
      if (options?.public) this.#public.add(key);
      return () => {
        if (methods.get(upper) !== handler) return;
        methods.delete(upper);
        this.#public.delete(key);
      };
    }
    const route: Route = { method: upper, segments: path.split('/').filter(Boolean), handler };
    this.#dynamic.push(route);
    return () => {
      const index = this.#dynamic.indexOf(route);
      if (index >= 0) this.#dynamic.splice(index, 1);
    };
  }

  /** Whether `METHOD path` is a route served without an API key (`RouteOptions.public`). */
  isPublic(method: string, path: string): boolean {
    if (this.#public.size === 0) return false;
    return this.#public.has(`${method} ${path}`) || (method === 'HEAD' && this.#public.has(`GET ${path}`));
  }

  /** The media types a matched handler takes besides JSON (`RouteOptions.accepts`). */
  acceptsOf(handler: RouteHandler): readonly string[] | undefined {
    return this.#accepts.get(handler);
  }

  /**
   * The error body maker of the routes of `path` (`RouteOptions.formatError`), whatever the method:
   * errors raised before a handler is chosen (auth, the guard, 405) take the path's shape too.
   */
  formatErrorOf(path: string): ErrorFormatter | undefined {
    const methods = this.#static.get(path);
    if (methods) {
      for (const handler of methods.values()) {
        const format = this.#formatError.get(handler);
        if (format) return format;
      }
    }
    if (this.#dynamic.length > 0) {
      const parts = path.split('/').filter(Boolean);
      for (const route of this.#dynamic) {
        const format = this.#formatError.get(route.handler);
        if (format && matchSegments(route.segments, parts)) return format;
      }
    }
    return undefined;
  }

  /**
   * The route of `method` and `path`. HEAD is GET without the body (RFC 9110 §9.3.2): a path served
   * to GET answers HEAD with the GET handler (the adapters send no body), and lists HEAD in `allow`.
   */
  match(method: string, path: string): RouteMatch {
    const found = this.#match(method, path);
    if (found.kind !== 'method-not-allowed' || !found.allow.includes('GET')) return found;
    if (method === 'HEAD') return this.#match('GET', path);
    if (!found.allow.includes('HEAD')) found.allow.push('HEAD');
    return found;
  }

  #match(method: string, path: string): RouteMatch {
    // Made only on the way to a 405: a request that finds its route allocates nothing here.
    let allow: Set<string> | undefined;
    const methods = this.#static.get(path);
    if (methods) {
      const handler = methods.get(method);
      if (handler) return { kind: 'found', handler, params: {} };
      allow = new Set(methods.keys());
    }
    if (this.#dynamic.length > 0) {
      const parts = path.split('/').filter(Boolean);
      for (const route of this.#dynamic) {
        const params = matchSegments(route.segments, parts);
        if (!params) continue;
        if (route.method === method) return { kind: 'found', handler: route.handler, params };
        (allow ??= new Set()).add(route.method);
      }
    }
    return allow !== undefined && allow.size > 0
      ? { kind: 'method-not-allowed', allow: [...allow] }
      : { kind: 'not-found' };
  }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    if (segment.startsWith('*')) {
      const rest = parts.slice(index);
      if (rest.length === 0) return undefined;
      params[segment.slice(1)] = safeDecode(rest.join('/'));
      return params;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.startsWith(':')) params[segment.slice(1)] = safeDecode(part);
    else if (segment !== part) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
