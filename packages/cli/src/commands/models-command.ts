import { resolveConfig } from '../config/resolve-config.js';
import type { CliContext } from './cli-context.js';
import { createFusionFromConfig } from './create-fusion-from-config.js';

/** `fusion models`: the models the config would serve, one per line (or JSON with `--json`). */
export async function modelsCommand(
  context: CliContext,
  options: { config?: string; json?: boolean },
): Promise<void> {
  const config = await resolveConfig({
    cwd: context.cwd,
    env: context.env,
    ...(options.config ? { configPath: options.config } : {}),
  });
  // No HTTP here: the MCP endpoint is not mounted.
  const fusion = createFusionFromConfig({ ...config, healthIntervalMs: 0, mcp: false });
  try {
    await fusion.ready;
    const models = await fusion.models();
    if (options.json) {
      context.out(JSON.stringify(models, null, 2));
      return;
    }
    if (models.length === 0) context.log('no models: set FUSION_UPSTREAMS or a fusion.config file.');
    for (const model of models) {
      const details = [model.type, model.context_length ? `ctx ${model.context_length}` : '', model.status]
        .filter(Boolean)
        .join(', ');
      context.out(`${model.id}\t${details}`);
    }
  } finally {
    await fusion.close({ timeoutMs: 0 });
  }
}
