import { z } from 'zod';
import type { UpstreamConfig } from './fusion-config.js';
import { ConfigError, checkUpstream } from './parse-upstreams.js';

const positiveInteger = z.number().int().positive();

/** One upstream's options; unknown keys are refused (a typo would otherwise be ignored silently). */
const upstreamOptions = z.strictObject({
  baseURL: z.string(),
  apiKey: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  flavor: z.enum(['auto', 'openai', 'mlx-openai-server']).optional(),
  models: z.array(z.string().min(1)).optional(),
  concurrency: positiveInteger.optional(),
  maxSockets: positiveInteger.optional(),
  timeoutMs: positiveInteger.optional(),
  healthTimeoutMs: positiveInteger.optional(),
});

const upstreams = z.union([
  z.record(z.string(), z.union([z.string(), upstreamOptions])),
  z.array(upstreamOptions.extend({ name: z.string() })),
]);

/** `['upstreams', 'lab', 'maxSockets']` → `upstreams.lab.maxSockets` */
function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
    .join('')
    .slice(1);
}

/** The deepest issue of a failed parse: unions report every branch, the longest path says most. */
function deepestIssue(error: z.ZodError): { path: PropertyKey[]; message: string } {
  let best: { path: PropertyKey[]; message: string } = { path: [], message: 'invalid value' };
  const visit = (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        for (const branch of issue.errors) visit(branch, path);
        continue;
      }
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const full = keys.length > 0 ? [...path, keys[0]!] : path;
      if (full.length > best.path.length || best.message === 'invalid value')
        best = { path: full, message: issue.message };
    }
  };
  visit(error.issues, []);
  return best;
}

/**
 * The `upstreams` of a config file, checked: `{ name: baseURL }`, `{ name: { baseURL, … } }` or a
 * list of `{ name, baseURL, … }`. Mistakes name the key: `upstreams.lab.maxSockets: …`.
 */
export function readUpstreams(value: unknown, source: string): UpstreamConfig[] {
  if (value === undefined) return [];
  const parsed = upstreams.safeParse(value);
  if (!parsed.success) {
    const issue = deepestIssue(parsed.error);
    const key = keyPath(['upstreams', ...issue.path]);
    throw new ConfigError(`${source}: ${key}: ${issue.message}`);
  }
  const list: UpstreamConfig[] = Array.isArray(parsed.data)
    ? parsed.data
    : Object.entries(parsed.data).map(([name, entry]) =>
        typeof entry === 'string' ? { name, baseURL: entry } : { name, ...entry },
      );
  const names = new Set<string>();
  for (const upstream of list) {
    if (names.has(upstream.name))
      throw new ConfigError(`${source}: upstreams: the name '${upstream.name}' is used twice.`);
    names.add(upstream.name);
  }
  return list.map((upstream) => checkUpstream(upstream, source));
}
