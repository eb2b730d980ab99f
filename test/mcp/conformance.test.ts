/**
 * The official MCP conformance suite against the conformance fixture server (built from the MCP
 * plugin's endpoint, sessions and subscriptions): every scenario of the active suite and of the
 * requirement sets of the 2025-11-25 and 2026-07-28 revisions. Runs in CI: the suite is fetched
 * with Node 24 from the npm registry (`npx`), so the first run takes a while.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../support/mcp-conformance.js';
import { startConformanceServer } from './__fixtures__/conformance-server.js';

const TIMEOUT = 900_000;

describe('the MCP conformance suite against the fixture server', () => {
  let server: Awaited<ReturnType<typeof startConformanceServer>>;
  beforeAll(async () => {
    server = await startConformanceServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    { suite: 'the active suite', args: [], scored: 31 },
    { suite: 'the 2025-11-25 requirements', args: ['--requirements', '2025-11-25'], scored: 30 },
    { suite: 'the 2026-07-28 requirements', args: ['--requirements', '2026-07-28'], scored: 37 },
  ])(
    'passes every scenario of $suite',
    async ({ args, scored }) => {
      const run = await runConformance(server.url, args, TIMEOUT - 30_000);
      const scoredScenarios = run.scenarios.filter((scenario) => scenario.scored);
      expect(run.failures, run.output.slice(-6000)).toEqual([]);
      expect(scoredScenarios.length, run.output.slice(-6000)).toBe(scored);
      expect(scoredScenarios.every((scenario) => scenario.checks.passed > 0)).toBe(true);
    },
    TIMEOUT,
  );
});
