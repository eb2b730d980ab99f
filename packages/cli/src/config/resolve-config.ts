import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, type ConfigProblem, showValue } from './config-error.js';
import { closest, problemsOf } from './config-problems.js';
import { FUSION_ENV_NAMES, fusionConfigSchema, fusionEnvSchema } from './config-schema.js';
import type { FusionConfig, UpstreamConfig } from './fusion-config.js';
import { loadConfigFile } from './load-config.js';

/** The config `fusion serve` runs with: file first, then the environment on top. */
export interface ResolvedConfig extends Omit<FusionConfig, 'upstreams'> {
  host: string;
  port: number;
  upstreams: UpstreamConfig[];
  /** The config file read, if any. */
  file?: string;
  /** Things worth saying at start that are not mistakes (a `FUSION_*` variable nobody reads). */
  notes?: string[];
}

/** The `FUSION_*` variables that are set (not empty), for the environment schema. */
function fusionEnv(env: Record<string, string | undefined>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of FUSION_ENV_NAMES) {
    const value = env[name]?.trim();
    if (value) picked[name] = value;
  }
  return picked;
}

/** Variables that look like ours but are not read: most likely a typo. */
function envTypos(env: Record<string, string | undefined>): string[] {
  const notes: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('FUSION_') || (FUSION_ENV_NAMES as string[]).includes(name)) continue;
    const meant = closest(name, FUSION_ENV_NAMES);
    if (meant) notes.push(`${name} is not read by fusion serve; did you mean ${meant}?`);
  }
  return notes;
}

/** A file name as problems show it: relative to the working directory when inside it. */
function displayPath(cwd: string, file: string): string {
  const inside = relative(cwd, file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/**
 * Reads the config file and `FUSION_HOST`, `FUSION_PORT`, `FUSION_UPSTREAMS`, `FUSION_LOG`,
 * `FUSION_MLX_MODELS`, and `FUSION_ALLOWED_HOSTS` / `FUSION_ALLOWED_ORIGINS` (added to `security`),
 * and checks them all with one schema. Throws a {@link ConfigError} listing every mistake.
 */
export async function resolveConfig(options: {
  cwd: string;
  env: Record<string, string | undefined>;
  configPath?: string;
}): Promise<ResolvedConfig> {
  const { cwd } = options;
  const { config: loaded, file } = await loadConfigFile(cwd, options.configPath);
  const source = file ? displayPath(cwd, file) : 'config';
  const problems: ConfigProblem[] = [];
  const parsedFile = fusionConfigSchema.safeParse(loaded, { reportInput: true });
  if (!parsedFile.success) problems.push(...problemsOf(parsedFile.error, fusionConfigSchema, source));
  const parsedEnv = fusionEnvSchema.safeParse(fusionEnv(options.env), { reportInput: true });
  if (!parsedEnv.success) problems.push(...problemsOf(parsedEnv.error, fusionEnvSchema, 'environment'));
  if (!parsedFile.success || !parsedEnv.success) throw ConfigError.fromProblems(problems);

  const {
    $schema: _schema,
    upstreams: fileUpstreams,
    ...config
  } = parsedFile.data as FusionConfig & {
    $schema?: string;
  };
  const env = parsedEnv.data;
  const upstreams: UpstreamConfig[] = (
    fileUpstreams === undefined
      ? []
      : Array.isArray(fileUpstreams)
        ? fileUpstreams
        : Object.entries(fileUpstreams).map(([name, entry]) =>
            typeof entry === 'string' ? { name, baseURL: entry } : { name, ...entry },
          )
  ).map((upstream) => ({ ...upstream, baseURL: upstream.baseURL.replace(/\/+$/, '') }));
  for (const upstream of env.FUSION_UPSTREAMS ?? []) {
    const index = upstreams.findIndex((existing) => existing.name === upstream.name);
    if (index >= 0) upstreams[index] = upstream;
    else upstreams.push(upstream);
  }
  const resolved: ResolvedConfig = {
    ...config,
    host: env.FUSION_HOST ?? config.host ?? '127.0.0.1',
    port: env.FUSION_PORT ?? config.port ?? 8080,
    upstreams,
  };
  if (file) resolved.file = file;
  const hosts = env.FUSION_ALLOWED_HOSTS ?? [];
  const origins = env.FUSION_ALLOWED_ORIGINS ?? [];
  if (hosts.length > 0 || origins.length > 0) {
    const security = config.security ?? {};
    resolved.security = {
      ...security,
      allowedHosts: [...(security.allowedHosts ?? []), ...hosts],
      allowedOrigins: [...(security.allowedOrigins ?? []), ...origins],
    };
  }
  if (env.FUSION_MLX_MODELS && config.mlx !== false) {
    resolved.mlx = { ...(config.mlx || {}), modelsDir: env.FUSION_MLX_MODELS };
  }
  const mlx = resolved.mlx || undefined;
  if (mlx?.modelsDir !== undefined) {
    const fromEnv = env.FUSION_MLX_MODELS !== undefined;
    const { modelsDir } = mlx;
    const folders = [modelsDir].flat();
    folders.forEach((folder, index) => {
      const problem = folderProblem(resolve(cwd, folder));
      if (problem)
        problems.push({
          source: fromEnv ? 'environment' : source,
          key: fromEnv
            ? 'FUSION_MLX_MODELS'
            : Array.isArray(modelsDir)
              ? `mlx.modelsDir[${index}]`
              : 'mlx.modelsDir',
          value: showValue(folder),
          expected: problem,
        });
    });
    // The provider reads folders relative to the process; the config means the working directory.
    const absolute = folders.map((folder) => resolve(cwd, folder));
    resolved.mlx = { ...mlx, modelsDir: Array.isArray(modelsDir) ? absolute : absolute[0]! };
  }
  problems.push(...aliasProblems(resolved, source));
  if (problems.length > 0) throw ConfigError.fromProblems(problems);
  const notes = envTypos(options.env);
  if (notes.length > 0) resolved.notes = notes;
  return resolved;
}

function folderProblem(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? undefined : `expected a folder, but ${path} is a file`;
  } catch {
    return `expected a folder of MLX model directories; ${path} does not exist`;
  }
}

/**
 * Aliases whose target nothing configured can serve: a model of an upstream or provider that does
 * not exist, or that is not in an upstream's `models` list. Plugins can add providers of any name,
 * so with plugins only the names they cannot have made are checked (none).
 */
function aliasProblems(config: ResolvedConfig, source: string): ConfigProblem[] {
  const aliases = config.aliases ?? {};
  if ((config.plugins ?? []).length > 0) return [];
  const pipelines = new Set((config.pipelines ?? []).map((pipeline) => pipeline.name));
  const providers = new Map<string, string[] | undefined>();
  for (const upstream of config.upstreams) providers.set(upstream.name, upstream.models);
  for (const provider of config.providers ?? []) providers.set(provider.id, undefined);
  if (config.mlx) providers.set(config.mlx.id ?? 'mlx', undefined);
  const problems: ConfigProblem[] = [];
  for (const [alias, target] of Object.entries(aliases)) {
    if (target in aliases || pipelines.has(target)) continue;
    const slash = target.indexOf('/');
    const known = [...providers.keys()];
    if (slash < 0) {
      // An unprefixed id: whichever provider has it, found at run time.
      if (providers.size === 0)
        problems.push({
          source,
          key: `aliases.${alias}`,
          value: showValue(target),
          expected: 'expected a model of an upstream, but no upstream or provider is configured',
        });
      continue;
    }
    const prefix = target.slice(0, slash);
    if (!providers.has(prefix)) {
      problems.push({
        source,
        key: `aliases.${alias}`,
        value: showValue(target),
        expected:
          known.length > 0
            ? `expected a model of a configured upstream (${known.join(', ')}), pipeline or alias; there is no upstream '${prefix}'`
            : `expected a model of an upstream, but none is configured (FUSION_UPSTREAMS=${prefix}=http://…/v1 adds '${prefix}')`,
      });
      continue;
    }
    const models = providers.get(prefix);
    const model = target.slice(slash + 1);
    if (models && !models.includes(model))
      problems.push({
        source,
        key: `aliases.${alias}`,
        value: showValue(target),
        expected: `expected one of the models upstream '${prefix}' serves: ${models.map((id) => `${prefix}/${id}`).join(', ')}`,
      });
  }
  return problems;
}
