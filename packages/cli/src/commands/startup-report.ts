import type { AddressInfo } from 'node:net';
import type { Fusion, ModelListEntry } from '@fusionkit/core';
import type { NodeServer } from '@fusionkit/node';
import { ConfigError } from '../config/config-error.js';
import type { ResolvedConfig } from '../config/resolve-config.js';

/**
 * Where the server listens, as the banner says it: its URL, and for a wildcard host the address
 * really bound (every interface) besides the URL to use from this machine.
 */
export function listeningOn(server: NodeServer, host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return server.url;
  const address = server.server.address() as AddressInfo;
  const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${bound}:${address.port} (every interface; from this machine: ${server.url})`;
}

/**
 * Why the server could not listen, in one line naming the variable to change; other errors are
 * returned as they are.
 */
export function listenError(
  error: unknown,
  config: ResolvedConfig,
  env: Record<string, string | undefined>,
): unknown {
  const code = (error as { code?: string }).code;
  const where = `${config.host}:${config.port}`;
  const portFrom = env.FUSION_PORT?.trim() ? `FUSION_PORT=${config.port}` : `port ${config.port}`;
  if (code === 'EADDRINUSE')
    return new ConfigError(
      `${portFrom}: ${where} is in use by another program; set FUSION_PORT to a free port (0 picks one).`,
    );
  if (code === 'EACCES')
    return new ConfigError(
      `${portFrom}: listening on ${where} is not allowed to this user; set FUSION_PORT to 1024 or above.`,
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new ConfigError(
      `FUSION_HOST=${config.host}: this machine has no such address; set FUSION_HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for every interface).`,
    );
  return error;
}

/** The lines after "listening": the models served, and what is missing and why. */
export function startupReport(config: ResolvedConfig, fusion: Fusion, models: ModelListEntry[]): string[] {
  const lines: string[] = [];
  const served = models.filter((model) => model.alias_of === undefined);
  const aliases = models.filter((model) => model.alias_of !== undefined);
  const health = fusion.health();
  if (served.length > 0) {
    lines.push(`serving ${served.length} model${served.length === 1 ? '' : 's'}:`);
    for (const model of served)
      lines.push(`  ${model.id}${model.status === 'ready' ? '' : ` (${model.status})`}`);
    for (const alias of aliases) lines.push(`  ${alias.id} → ${String(alias.alias_of)}`);
  } else if (fusion.registry.providers().length === 0 && (config.plugins ?? []).length === 0 && !config.mlx) {
    lines.push('no model yet: GET /health answers 503 until one is added.');
    lines.push('  add one: FUSION_UPSTREAMS=lab=http://127.0.0.1:8000/v1 npm start');
    lines.push('  or list upstreams, providers and plugins in fusion.config.ts (see the README).');
  } else {
    lines.push('no model yet: GET /health answers 503 until a provider below answers.');
  }
  const retrying = (config.healthIntervalMs ?? 5000) > 0;
  for (const upstream of config.upstreams) {
    if (served.some((model) => model.id.startsWith(`${upstream.name}/`))) continue;
    const reason = (health.providers[upstream.name]?.message ?? 'not reachable').replace(/\.$/, '');
    lines.push(
      `upstream '${upstream.name}' (${upstream.baseURL}) has no models yet (${reason}); ${retrying ? 'retrying' : 'not retried (healthIntervalMs: 0)'}.`,
    );
  }
  if (config.mlx) {
    const id = config.mlx.id ?? 'mlx';
    if (!served.some((model) => model.id.startsWith(`${id}/`))) {
      const folders = config.mlx.modelsDir === undefined ? [] : [config.mlx.modelsDir].flat();
      const where = folders.length > 0 ? `in ${folders.join(', ')}` : 'configured';
      lines.push(
        `mlx: no model ${where}${config.mlx.huggingFaceCache === false ? '' : ' nor in the Hugging Face cache'} (one folder per model, mlx-community layout: config.json, tokenizer, *.safetensors).`,
      );
    }
  }
  for (const alias of fusion.registry.aliases().keys()) {
    if (models.some((model) => model.id === alias)) continue;
    try {
      fusion.registry.resolve(alias);
    } catch (error) {
      lines.push(`alias '${alias}': ${(error as Error).message.replace(/ GET \/v1\/models lists.*$/, '')}`);
    }
  }
  return lines;
}
