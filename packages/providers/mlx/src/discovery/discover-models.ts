/**
 * Finds model directories: each subdirectory (holding a `config.json`) of the configured folders,
 * and the mlx-community models in the Hugging Face cache (`models--mlx-community--<name>`, the
 * snapshot `refs/main` points at), so that what `mlx_lm` downloaded appears without configuration.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export interface ModelLocation {
  /** Model id within the provider: the directory name, or the repository name for the cache. */
  id: string;
  /** Absolute directory. */
  path: string;
  source: 'folder' | 'huggingface' | 'configured';
}

export interface DiscoveryOptions {
  modelsDir?: string | string[];
  huggingFaceCache?: boolean;
  /** Explicit models, id to directory. */
  models?: Record<string, string>;
  /** Environment to read `HF_HUB_CACHE` / `HF_HOME` from. @default process.env */
  env?: Record<string, string | undefined>;
}

/** The Hugging Face hub cache directory, as `huggingface_hub` computes it. */
export function huggingFaceHubDir(env: Record<string, string | undefined> = process.env): string {
  if (env.HF_HUB_CACHE) return resolve(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) return resolve(env.HUGGINGFACE_HUB_CACHE);
  const home = env.HF_HOME
    ? resolve(env.HF_HOME)
    : join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function listDirectory(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** The snapshot of a cached repository: the one `refs/main` names, else the newest. */
function snapshotOf(repository: string): string | undefined {
  const snapshots = join(repository, 'snapshots');
  const ref = join(repository, 'refs', 'main');
  if (existsSync(ref)) {
    const revision = readFileSync(ref, 'utf8').trim();
    if (isDirectory(join(snapshots, revision))) return join(snapshots, revision);
  }
  const candidates = listDirectory(snapshots)
    .map((name) => join(snapshots, name))
    .filter(isDirectory)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0];
}

/** Every model directory the options point at; the first location of an id wins. */
export function discoverModelLocations(options: DiscoveryOptions): ModelLocation[] {
  const found = new Map<string, ModelLocation>();
  const add = (location: ModelLocation) => {
    if (!found.has(location.id)) found.set(location.id, location);
  };
  for (const [id, path] of Object.entries(options.models ?? {}))
    add({ id, path: resolve(path), source: 'configured' });
  const folders = options.modelsDir === undefined ? [] : [options.modelsDir].flat();
  for (const folder of folders) {
    const root = resolve(folder);
    if (existsSync(join(root, 'config.json'))) add({ id: basename(root), path: root, source: 'folder' });
    for (const name of listDirectory(root)) {
      const path = join(root, name);
      if (!name.startsWith('.') && existsSync(join(path, 'config.json')))
        add({ id: name, path, source: 'folder' });
    }
  }
  if (options.huggingFaceCache) {
    const hub = huggingFaceHubDir(options.env);
    for (const name of listDirectory(hub)) {
      const match = /^models--mlx-community--(.+)$/.exec(name);
      if (!match) continue;
      const snapshot = snapshotOf(join(hub, name));
      if (snapshot && existsSync(join(snapshot, 'config.json'))) {
        add({ id: match[1]!, path: snapshot, source: 'huggingface' });
      }
    }
  }
  return [...found.values()];
}
