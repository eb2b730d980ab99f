import { describe, expect, it } from 'vitest';
import { LegacyCancellation } from './legacy-cancellation.js';

const post = (headers: Record<string, string> = {}) =>
  new Request('http://localhost/mcp', { method: 'POST', headers });
const call = (id: number | string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'chat' },
});
const cancelled = (requestId: number | string) => ({
  jsonrpc: '2.0',
  method: 'notifications/cancelled',
  params: { requestId, reason: 'user' },
});

describe('LegacyCancellation', () => {
  it('gives an initialize answer a session id, and nothing else one', async () => {
    const cancellation = new LegacyCancellation();
    const initialize = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const answered = await cancellation.serve(post(), initialize, async () => new Response('{}'));
    expect(answered.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    const other = await cancellation.serve(post(), call(1), async () => new Response('{}'));
    expect(other.headers.get('mcp-session-id')).toBeNull();
  });

  it('aborts the signal of the call a cancellation names, in the same session only', async () => {
    const cancellation = new LegacyCancellation();
    const signals = new Map<string, AbortSignal>();
    const hold = (session: string) =>
      cancellation.serve(post({ 'mcp-session-id': session }), call(1), async (request) => {
        signals.set(session, request.signal);
        return new Response('streaming');
      });
    const first = await hold('a');
    await hold('b');
    expect(cancellation.size).toBe(2);

    await cancellation.serve(
      post({ 'mcp-session-id': 'a' }),
      cancelled(1),
      async () => new Response(null, { status: 202 }),
    );
    expect(signals.get('a')!.aborted).toBe(true);
    expect(signals.get('b')!.aborted).toBe(false);
    expect(cancellation.size).toBe(1);
    await first.text();
  });

  it('forgets a call once its answer is read or dropped', async () => {
    const cancellation = new LegacyCancellation();
    const headers = { 'mcp-session-id': 's' };
    const read = await cancellation.serve(post(headers), call(1), async () => new Response('done'));
    const dropped = await cancellation.serve(
      post(headers),
      call('two'),
      async () => new Response('never read'),
    );
    expect(cancellation.size).toBe(2);
    expect(await read.text()).toBe('done');
    await dropped.body!.cancel();
    expect(cancellation.size).toBe(0);
  });
});
