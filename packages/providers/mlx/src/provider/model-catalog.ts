/**
 * The models a provider knows: discovered directories, their manifests (or why they cannot be
 * served), and their load state in the worker.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelInfo } from '@fusionkit/core';
import {
  type DiscoveryOptions,
  discoverModelLocations,
  type ModelLocation,
} from '../discovery/discover-models.js';
import { type ModelManifest, readModelManifest } from '../loading/model-manifest.js';
import type { LoadedModelInfo } from '../worker/protocol.js';
import { ModelQueue } from './model-queue.js';

export interface CatalogEntry {
  id: string;
  location: ModelLocation;
  /** `config.json`'s modification time when the manifest was read. */
  configMtimeMs: number;
  manifest?: ModelManifest;
  /** Why the directory cannot be served. */
  error?: string;
  state: 'unloaded' | 'loading' | 'loaded' | 'failed';
  /**
   * Loaded when the worker crashed: the next worker loads it again. It still counts as loaded
   * (its memory comes back) until that load gives up.
   */
  restore: boolean;
  loading?: Promise<void>;
  loaded?: LoadedModelInfo;
  kvCacheBytes: number;
  /** Worker crashes while this model was loading. */
  crashedLoads: number;
  queue: ModelQueue;
}

/** A model directory that was found but cannot be served, and why. */
export interface SkippedModel {
  id: string;
  path: string;
  reason: string;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export class ModelCatalog {
  readonly #options: DiscoveryOptions;
  readonly #maxWaiting: number;
  readonly entries = new Map<string, CatalogEntry>();

  constructor(options: DiscoveryOptions, maxWaiting: number) {
    this.#options = options;
    this.#maxWaiting = maxWaiting;
  }

  /** Rescans the folders. Loaded models stay even when their directory went away. */
  refresh(): void {
    const seen = new Set<string>();
    for (const location of discoverModelLocations(this.#options)) {
      seen.add(location.id);
      const configMtimeMs = mtime(join(location.path, 'config.json'));
      const existing = this.entries.get(location.id);
      const unchanged =
        existing?.location.path === location.path &&
        existing.configMtimeMs === configMtimeMs &&
        // A directory refused before (perhaps still being copied) is read again.
        existing.error === undefined;
      if (unchanged) continue;
      if (existing && (existing.state !== 'unloaded' || existing.restore)) continue;
      const entry: CatalogEntry = {
        id: location.id,
        location,
        configMtimeMs,
        state: 'unloaded',
        restore: false,
        kvCacheBytes: 0,
        crashedLoads: 0,
        queue: existing?.queue ?? new ModelQueue(location.id, this.#maxWaiting),
      };
      try {
        entry.manifest = readModelManifest(location.path);
      } catch (error) {
        entry.error = error instanceof Error ? error.message : String(error);
      }
      this.entries.set(location.id, entry);
    }
    for (const [id, entry] of this.entries) {
      if (!seen.has(id) && entry.state === 'unloaded' && !entry.restore) this.entries.delete(id);
    }
  }

  /** What discovery finds now, as a string that changes when a model directory does. */
  signature(): string {
    return discoverModelLocations(this.#options)
      .map((location) =>
        [location.id, location.path, mtime(location.path), mtime(join(location.path, 'config.json'))].join(
          '\u0000',
        ),
      )
      .join('\n');
  }

  /** An entry by id, rescanning once when it is not known yet. */
  get(id: string): CatalogEntry | undefined {
    const known = this.entries.get(id);
    if (known) return known;
    this.refresh();
    return this.entries.get(id);
  }

  skipped(): SkippedModel[] {
    return [...this.entries.values()]
      .filter((entry) => entry.error !== undefined)
      .map((entry) => ({ id: entry.id, path: entry.location.path, reason: entry.error! }));
  }

  /** Bytes a model occupies loaded (weights plus its KV cache), or is expected to. */
  memoryBytes(entry: CatalogEntry): number {
    if (entry.loaded) return entry.loaded.weightBytes + entry.kvCacheBytes;
    return entry.manifest?.weightBytes ?? 0;
  }

  info(entry: CatalogEntry): ModelInfo {
    const manifest = entry.manifest!;
    const { config } = manifest;
    const chat = config.kind === 'causal';
    const quantization = config.quantization ? `${config.quantization.bits}bit` : 'float';
    return {
      id: entry.id,
      type: chat ? 'chat' : 'embeddings',
      capabilities: chat
        ? { chat: true, tools: true, json_schema: true, vision: false }
        : { chat: false, embeddings: true },
      context_length: config.contextLength,
      family: config.modelType,
      owned_by: 'local-mlx',
      memory_bytes: this.memoryBytes(entry),
      loaded: entry.state === 'loaded' || entry.restore,
      tags: ['mlx', 'local', quantization],
      // No local path: clients of `/v1/models` need not know the host's folders (the operator has
      // `modelDirectories()`).
      metadata: {
        source: entry.location.source,
        quantization,
        // What chat requests may ask: decoding is constrained to JSON (of a schema), not yet to a tool call.
        ...(chat
          ? { response_formats: ['text', 'json_object', 'json_schema'], tool_choices: ['auto', 'none'] }
          : {}),
      },
    };
  }
}
