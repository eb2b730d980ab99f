import { FusionError, type PluginApi } from '@fusionkit/core';
import type { RagPipelineDefinition } from './rag-plugin-options.js';

/**
 * The `rag/<collection>` models: one pipeline per collection, registered when the collection appears
 * (loaded at start, created through the API, found on disk) and removed when it is deleted.
 */
export class CollectionPipelines {
  readonly #api: PluginApi;
  readonly #definition: ((collection: string) => RagPipelineDefinition) | undefined;
  readonly #registered = new Map<string, () => void>();

  /** `definition` is absent when no generator is configured: then no pipeline is served. */
  constructor(api: PluginApi, definition: ((collection: string) => RagPipelineDefinition) | undefined) {
    this.#api = api;
    this.#definition = definition;
  }

  /** The model that answers from a collection, when one is served. */
  modelOf(collection: string): string | undefined {
    return this.#definition && this.#registered.has(collection) ? `rag/${collection}` : undefined;
  }

  /** Serves `rag/<collection>` unless it is served already. */
  add(collection: string): void {
    if (!this.#definition || this.#registered.has(collection)) return;
    const definition = this.#definition(collection);
    try {
      this.#registered.set(collection, this.#api.registerPipeline(definition));
    } catch (error) {
      throw new FusionError({
        message: `Cannot serve '${definition.name}': ${(error as Error).message}`,
        code: 'model_exists',
        status: 409,
        param: 'name',
        cause: error,
      });
    }
  }

  remove(collection: string): void {
    this.#registered.get(collection)?.();
    this.#registered.delete(collection);
  }

  /** Serves exactly these collections (those on disk now). */
  sync(collections: readonly string[]): void {
    const wanted = new Set(collections);
    for (const name of [...this.#registered.keys()]) if (!wanted.has(name)) this.remove(name);
    for (const name of collections) {
      try {
        this.add(name);
      } catch {
        // Another plugin serves that name; the collection stays searchable, without a model.
      }
    }
  }

  /** Removes every pipeline. */
  clear(): void {
    for (const name of [...this.#registered.keys()]) this.remove(name);
  }
}
