import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config-error.js';

/** File names searched in the working directory, in this order. */
export const CONFIG_FILES = [
  'fusion.config.ts',
  'fusion.config.mts',
  'fusion.config.js',
  'fusion.config.mjs',
  'fusion.config.json',
];

/**
 * Loads the config file: the given path, or the first of {@link CONFIG_FILES} in `cwd`. TypeScript
 * configs are loaded with jiti, so they work on Node versions without type stripping. The config is
 * returned as loaded, unchecked: `resolveConfig` checks it.
 */
export async function loadConfigFile(
  cwd: string,
  path?: string,
): Promise<{ config: unknown; file?: string }> {
  const file = path
    ? resolve(cwd, path)
    : CONFIG_FILES.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate));
  if (!file) return { config: {} };
  if (!existsSync(file)) throw new ConfigError(`Config file not found: ${file}`);
  try {
    if (file.endsWith('.json')) return { config: JSON.parse(await readFile(file, 'utf8')) as unknown, file };
    let loaded: unknown;
    if (/\.[mc]?ts$/.test(file)) {
      const { createJiti } = await import('jiti');
      loaded = await createJiti(import.meta.url, { interopDefault: true }).import(file, { default: true });
    } else {
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
      loaded = module.default ?? module;
    }
    const config = typeof loaded === 'function' ? await (loaded as () => unknown)() : loaded;
    if (typeof config !== 'object' || config === null)
      throw new ConfigError(`${file} must export a config object.`);
    return { config, file };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Could not load ${file}: ${(error as Error).message}`);
  }
}
