import type { FusionConfig, UpstreamConfig } from './fusion-config.js';
import { loadConfigFile } from './load-config.js';
import { ConfigError, parseUpstreams } from './parse-upstreams.js';
import { readUpstreams } from './read-upstreams.js';

/** The config `fusion serve` runs with: file first, then the environment on top. */
export interface ResolvedConfig extends Omit<FusionConfig, 'upstreams'> {
  host: string;
  port: number;
  upstreams: UpstreamConfig[];
  /** The config file read, if any. */
  file?: string;
}

function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${source}: '${value}' is not a port number (0-65535).`);
  }
  return port;
}

/** A comma-separated list from the environment; empty entries dropped. */
function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * Reads the config file and `FUSION_HOST`, `FUSION_PORT`, `FUSION_UPSTREAMS`, and
 * `FUSION_ALLOWED_HOSTS` / `FUSION_ALLOWED_ORIGINS` (added to `security`).
 */
export async function resolveConfig(options: {
  cwd: string;
  env: Record<string, string | undefined>;
  configPath?: string;
}): Promise<ResolvedConfig> {
  const { config, file } = await loadConfigFile(options.cwd, options.configPath);
  const { upstreams: fileUpstreams, ...rest } = config;
  const upstreams = readUpstreams(fileUpstreams, file ?? 'config');
  for (const upstream of parseUpstreams(options.env.FUSION_UPSTREAMS)) {
    const index = upstreams.findIndex((existing) => existing.name === upstream.name);
    if (index >= 0) upstreams[index] = upstream;
    else upstreams.push(upstream);
  }
  const resolved: ResolvedConfig = {
    ...rest,
    host: options.env.FUSION_HOST || config.host || '127.0.0.1',
    port: options.env.FUSION_PORT ? parsePort(options.env.FUSION_PORT, 'FUSION_PORT') : (config.port ?? 8080),
    upstreams,
  };
  if (file) resolved.file = file;
  const hosts = parseList(options.env.FUSION_ALLOWED_HOSTS);
  const origins = parseList(options.env.FUSION_ALLOWED_ORIGINS);
  if (hosts.length > 0 || origins.length > 0) {
    const security = config.security ?? {};
    resolved.security = {
      ...security,
      allowedHosts: [...(security.allowedHosts ?? []), ...hosts],
      allowedOrigins: [...(security.allowedOrigins ?? []), ...origins],
    };
  }
  if (options.env.FUSION_MLX_MODELS && config.mlx !== false) {
    resolved.mlx = { ...(config.mlx || {}), modelsDir: options.env.FUSION_MLX_MODELS };
  }
  return resolved;
}
