import type { UpstreamConfig } from './fusion-config.js';

/** A configuration mistake the CLI reports in one line, without a stack trace. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const NAME = /^[\w.-]+$/;

/** Checks one upstream's name and URL. */
export function checkUpstream(upstream: UpstreamConfig, source: string): UpstreamConfig {
  if (!NAME.test(upstream.name)) {
    throw new ConfigError(
      `${source}: upstream name '${upstream.name}' may only hold letters, digits, '_', '.' and '-'.`,
    );
  }
  let url: URL;
  try {
    url = new URL(upstream.baseURL);
  } catch {
    throw new ConfigError(`${source}: '${upstream.baseURL}' (upstream '${upstream.name}') is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `${source}: upstream '${upstream.name}' must use http or https, not ${url.protocol}`,
    );
  }
  return { ...upstream, baseURL: upstream.baseURL.replace(/\/+$/, '') };
}

/**
 * Parses `FUSION_UPSTREAMS`: `name=baseURL[,name=baseURL…]`.
 * @example parseUpstreams('lab=http://127.0.0.1:8000/v1,gpu=http://10.0.0.2:8000/v1')
 */
export function parseUpstreams(value: string | undefined): UpstreamConfig[] {
  if (!value?.trim()) return [];
  const upstreams: UpstreamConfig[] = [];
  for (const item of value.split(',')) {
    const entry = item.trim();
    if (!entry) continue;
    const equals = entry.indexOf('=');
    if (equals <= 0) {
      throw new ConfigError(
        `FUSION_UPSTREAMS: '${entry}' is not name=baseURL (example: lab=http://127.0.0.1:8000/v1).`,
      );
    }
    upstreams.push(
      checkUpstream(
        { name: entry.slice(0, equals).trim(), baseURL: entry.slice(equals + 1).trim() },
        'FUSION_UPSTREAMS',
      ),
    );
  }
  const names = new Set<string>();
  for (const upstream of upstreams) {
    if (names.has(upstream.name))
      throw new ConfigError(`FUSION_UPSTREAMS: the name '${upstream.name}' is used twice.`);
    names.add(upstream.name);
  }
  return upstreams;
}
