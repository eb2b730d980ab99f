import { ConfigError } from './config-error.js';
import { problemsOf } from './config-problems.js';
import { upstreamListSchema } from './config-schema.js';
import type { UpstreamConfig } from './fusion-config.js';

/**
 * Parses `FUSION_UPSTREAMS`: `name=baseURL[,name=baseURL…]`. Throws a {@link ConfigError} naming
 * every entry that is not.
 * @example parseUpstreams('lab=http://127.0.0.1:8000/v1,gpu=http://10.0.0.2:8000/v1')
 */
export function parseUpstreams(value: string | undefined): UpstreamConfig[] {
  if (!value?.trim()) return [];
  const parsed = upstreamListSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const problems = problemsOf(parsed.error, upstreamListSchema, 'environment');
    throw ConfigError.fromProblems(problems.map((problem) => ({ ...problem, key: 'FUSION_UPSTREAMS' })));
  }
  return parsed.data;
}
