/**
 * `/internal/diagnostics` through real HTTP: what it reports, that keys guard it (only an admin key
 * reads it: it concerns every key), that no web page of another origin reads it, and that it names
 * no local path.
 */

import { createMockProvider } from '@fusionkit/core/test';
import { createFusionDiagnostics, type DiagnosticsReport, diagnosticsRoute } from '@fusionkit/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FusionStack, startFusionStack, USER_MESSAGE } from '../fusion/fusion-stack.js';

const KEY = 'diagnostics-key';
const APP_KEY = 'diagnostics-app-key';
const auth = { authorization: `Bearer ${KEY}` };

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    fusion: {
      apiKeys: [
        { id: 'ops', key: KEY, admin: true },
        { id: 'app', key: APP_KEY },
      ],
      security: { allowedOrigins: ['http://app.example'] },
    },
  });
  stack.client.apiKey = KEY;
  await stack.fusion.registerProvider(
    createMockProvider({
      id: 'local',
      models: [{ id: 'weights' }],
      health: { status: 'unhealthy', message: 'weights missing at /home/ana/models/qwen-7b' },
    }),
  );
  const diagnostics = createFusionDiagnostics(stack.fusion);
  stack.fusion.route('GET', '/internal/diagnostics', diagnosticsRoute(diagnostics));
  stack.fusion.events.on('fusion:close', () => diagnostics.close());
});
afterAll(() => stack?.close());

const diagnosticsUrl = () => `${stack.url}/internal/diagnostics`;

describe('GET /internal/diagnostics', () => {
  it('reports models, providers, queue, process memory and event-loop delay', async () => {
    await stack.client.chat.completions.create({ model: 'faults/steady', messages: [USER_MESSAGE] });
    const response = await fetch(diagnosticsUrl(), { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const report = (await response.json()) as DiagnosticsReport;
    expect(report.models).toContainEqual(
      expect.objectContaining({
        id: 'faults/steady',
        provider: 'faults',
        status: 'ready',
        circuit: 'closed',
      }),
    );
    expect(report.models.find((model) => model.id === 'faults/steady')?.last_used).toEqual(
      expect.any(String),
    );
    expect(report.providers).toContainEqual(expect.objectContaining({ id: 'faults', status: 'ready' }));
    expect(report.queue.models['faults/steady']).toMatchObject({ completed: 1, running: 0, waiting: 0 });
    expect(report.process.memory.rss).toBeGreaterThan(0);
    expect(report.process.memory.heap_used).toBeGreaterThan(0);
    expect(report.process.event_loop_delay_ms).toEqual(
      expect.objectContaining({
        p50: expect.any(Number),
        p99: expect.any(Number),
        window_ms: expect.any(Number),
      }),
    );
    expect(report.closing).toBe(false);
  });

  it('names no local path', async () => {
    const text = await (await fetch(diagnosticsUrl(), { headers: auth })).text();
    expect(text).toContain('weights missing at <path>');
    expect(text).not.toContain('/home/ana');
  });

  it('needs the API key', async () => {
    const response = await fetch(diagnosticsUrl());
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: { type: expect.any(String), code: expect.any(String) },
    });
  });

  it('is refused to a key that is not an admin key', async () => {
    const app = { authorization: `Bearer ${APP_KEY}` };
    expect((await fetch(`${stack.url}/v1/models`, { headers: app })).status).toBe(200);
    const refused = await fetch(diagnosticsUrl(), { headers: app });
    expect(refused.status).toBe(403);
    const text = await refused.text();
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'admin_key_required', type: 'permission_error' },
    });
    expect(text).not.toContain('faults/steady');
  });

  it('refuses pages of other origins, even ones allowed to call the API', async () => {
    const allowed = { ...auth, origin: 'http://app.example' };
    expect((await fetch(`${stack.url}/v1/models`, { headers: allowed })).status).toBe(200);
    const refused = await fetch(diagnosticsUrl(), { headers: allowed });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    const crossSite = await fetch(diagnosticsUrl(), { headers: { ...auth, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
  });
});
