import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve-config.js';
import { createFusionFromConfig } from './create-fusion-from-config.js';

describe('createFusionFromConfig: the resilience policy from fusion.config.json', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'fusion-resilience-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  async function fusionOf(config: Record<string, unknown>) {
    await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify({ mcp: false, ...config }));
    return createFusionFromConfig(await resolveConfig({ cwd, env: {} }));
  }

  it('gives models called by name the default policy, with the configured settings', async () => {
    const fusion = await fusionOf({
      healthIntervalMs: 0,
      resilience: { retry: { maxRetries: 4 }, breaker: { consecutiveFailures: 1, cooldownMs: 60_000 } },
    });
    try {
      expect(fusion.targetHealth.modelCalls).toBe(true);
      expect(fusion.targetHealth.retry.maxRetries).toBe(4);
      const breaker = fusion.targetHealth.breaker('lab/model');
      breaker.onFailure();
      expect(breaker.state).toBe('open');
    } finally {
      await fusion.close();
    }
  });

  it('turns the policy off with resilience: false', async () => {
    const fusion = await fusionOf({ healthIntervalMs: 0, resilience: false });
    try {
      expect(fusion.targetHealth.modelCalls).toBe(false);
      expect(fusion.targetHealth.retry.maxRetries).toBe(0);
      const breaker = fusion.targetHealth.breaker('lab/model');
      for (let index = 0; index < 50; index++) breaker.onFailure();
      expect(breaker.state).toBe('closed');
    } finally {
      await fusion.close();
    }
  });
});
