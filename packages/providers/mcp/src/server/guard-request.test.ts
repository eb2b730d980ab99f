import { describe, expect, it } from 'vitest';
import { guardRequest } from './guard-request.js';

const request = (headers: Record<string, string>, url = 'http://127.0.0.1:8080/mcp') =>
  new Request(url, { method: 'POST', headers });

describe('guardRequest (the orchestrator’s cross-site guard, answering in JSON-RPC)', () => {
  it('lets loopback hosts and IP addresses on any port through, without Origin or from their own', () => {
    for (const host of ['localhost:8080', '127.0.0.1:1', '[::1]:3000', 'localhost', '192.168.1.20:8080']) {
      expect(guardRequest(request({ host }))).toBeUndefined();
      expect(guardRequest(request({ host, origin: `http://${host}` }))).toBeUndefined();
    }
  });

  it('refuses other hosts, other origins (another local port too) and Origin: null with a 403 JSON-RPC error', async () => {
    const host = guardRequest(request({ host: 'evil.example:8080' }));
    expect(host?.status).toBe(403);
    expect(await host?.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000 } });
    expect(guardRequest(request({ host: 'localhost', origin: 'https://evil.example' }))?.status).toBe(403);
    expect(guardRequest(request({ host: 'localhost', origin: 'null' }))?.status).toBe(403);
    expect(guardRequest(request({ host: 'localhost:8080', origin: 'http://localhost:5173' }))?.status).toBe(
      403,
    );
  });

  it('takes configured names, and the URL host when there is no Host header', () => {
    expect(guardRequest(request({ host: 'fusion.lan' }), ['fusion.lan'])).toBeUndefined();
    expect(
      guardRequest(request({ host: 'localhost:8080', origin: 'http://localhost:5173' }), [], ['localhost']),
    ).toBeUndefined();
    expect(guardRequest(new Request('http://localhost:9/mcp'))).toBeUndefined();
    expect(guardRequest(new Request('http://fusion.lan/mcp'))?.status).toBe(403);
  });
});
