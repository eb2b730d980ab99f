import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, get, post } from '../__fixtures__/http.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import { createMockProvider } from '../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

describe('/api/fusion/traces/:id with API keys', () => {
  it("is the asking key's (and admin keys'): another key gets the 404 of an unknown trace", async () => {
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [createMockProvider({ id: 'mock', models: [{ id: 'a' }] })],
      apiKeys: [
        { id: 'alpha', key: 'alpha-secret' },
        { id: 'beta', key: 'beta-secret' },
        { id: 'ops', key: 'ops-secret', admin: true },
      ],
    });
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const answered = await post(
      fusion,
      '/api/fusion/chat',
      { ...chatBody('x'), model: undefined, strategy: { name: 'fallback' }, targets: ['mock/a'] },
      { headers: as('alpha-secret') },
    );
    expect(answered.status).toBe(200);
    const traceId = answered.headers.get('x-fusion-trace-id')!;
    const read = (key: string) => get(fusion!, `/api/fusion/traces/${traceId}`, as(key));
    expect((await read('alpha-secret')).status).toBe(200);
    expect((await read('ops-secret')).status).toBe(200);
    const refused = await read('beta-secret');
    expect(refused.status).toBe(404);
    expect(JSON.stringify(await refused.json())).not.toContain('mock/a');
  });
});
