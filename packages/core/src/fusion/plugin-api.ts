import type { PluginApi } from '../spec/plugin/v1/plugin-v1.js';
import type { Fusion } from './fusion.js';

/** Adds a named value to a registry map; refuses a second one of the same name. Returns the undo. */
function register<TValue extends { name: string }>(
  map: Map<string, TValue>,
  kind: string,
  value: TValue,
): () => void {
  if (map.has(value.name)) throw new TypeError(`A ${kind} named '${value.name}' is already registered.`);
  map.set(value.name, value);
  return () => {
    if (map.get(value.name) === value) map.delete(value.name);
  };
}

/**
 * The plugin API as this orchestrator gives it: the spec's `PluginApi`, plus the orchestrator itself
 * for plugins that serve it whole (the MCP server needs streams, models and pipelines).
 */
export interface FusionPluginApi extends PluginApi {
  readonly fusion: Fusion;
}

/** What a plugin's `setup` receives: the orchestrator's registries, routes, hooks, chat and embed. */
export function createPluginApi(fusion: Fusion): FusionPluginApi {
  return {
    fusion,
    chat: (request, options) => fusion.chat(request, options),
    embed: (request, options) => fusion.embed(request, options),
    registerProvider: (provider, options) => fusion.registerProvider(provider, options),
    registerRouter: (router) => register(fusion.routers, 'router', router),
    registerRetriever: (retriever) => register(fusion.retrievers, 'retriever', retriever),
    registerStrategy: (strategy) => register(fusion.strategies, 'strategy', strategy),
    registerTool: (tool) => register(fusion.tools, 'tool', tool),
    registerPipeline: (pipeline) => fusion.registerPipeline(pipeline),
    registerHealthCheck: (check) => register(fusion.healthChecks, 'health check', check),
    route: (method, path, handler, options) => fusion.route(method, path, handler, options),
    hook: (name, hook, options) => fusion.hook(name, hook, options),
  };
}
