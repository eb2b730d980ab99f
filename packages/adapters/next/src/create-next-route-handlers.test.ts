import { createFusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { describe, expect, it, vi } from 'vitest';
import { createNextRouteHandlers, type FusionLike } from './create-next-route-handlers.js';

/** A fake orchestrator that records the requests it is given and answers with `answer`. */
function recordingFusion(answer: () => Response = () => new Response('ok')) {
  const requests: Request[] = [];
  const fusion: FusionLike = {
    handle: async (request) => {
      requests.push(request);
      return answer();
    },
  };
  return { fusion, requests };
}

describe('createNextRouteHandlers', () => {
  it('returns one handler per method of a catch-all route', () => {
    const handlers = createNextRouteHandlers(recordingFusion().fusion);
    expect(Object.keys(handlers).sort()).toEqual(['DELETE', 'GET', 'OPTIONS', 'POST']);
  });

  it('cuts the base path from the URL the orchestrator sees, keeping the query', async () => {
    const { fusion, requests } = recordingFusion();
    const { GET } = createNextRouteHandlers(fusion, { basePath: '/api/' });
    await GET(new Request('http://localhost:3000/api/v1/models?limit=2'));
    await GET(new Request('http://localhost:3000/api'));
    expect(requests.map((request) => request.url)).toEqual([
      'http://localhost:3000/v1/models?limit=2',
      'http://localhost:3000/',
    ]);
  });

  it("defaults to '/api' and leaves paths outside the base path alone", async () => {
    const { fusion, requests } = recordingFusion();
    const { GET } = createNextRouteHandlers(fusion);
    await GET(new Request('http://localhost/api/health'));
    const outside = new Request('http://localhost/apis/v1/models');
    await GET(outside);
    expect(requests[0]?.url).toBe('http://localhost/health');
    expect(requests[1]).toBe(outside);
  });

  it('passes the request unchanged when the base path is empty', async () => {
    const { fusion, requests } = recordingFusion();
    const request = new Request('http://localhost/v1/models');
    await createNextRouteHandlers(fusion, { basePath: '' }).GET(request);
    expect(requests[0]).toBe(request);
  });

  it('keeps method, headers, body and the abort signal', async () => {
    const { fusion, requests } = recordingFusion();
    const controller = new AbortController();
    const { POST } = createNextRouteHandlers(fusion, { basePath: '/api' });
    await POST(
      new Request('http://localhost/api/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'next-1' },
        body: '{"model":"m"}',
        signal: controller.signal,
      }),
    );
    const seen = requests[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.headers.get('x-request-id')).toBe('next-1');
    expect(await seen.text()).toBe('{"model":"m"}');
    expect(seen.signal.aborted).toBe(false);
    controller.abort();
    expect(seen.signal.aborted).toBe(true);
  });

  it('returns the response of the orchestrator as it is, so streams are not buffered', async () => {
    const stream = new Response(new ReadableStream({ start: () => {} }), {
      headers: { 'content-type': 'text/event-stream' },
    });
    const { POST } = createNextRouteHandlers(recordingFusion(() => stream).fusion);
    expect(await POST(new Request('http://localhost/api/v1/chat/completions', { method: 'POST' }))).toBe(
      stream,
    );
  });

  it('serves a real orchestrator, and its abort reaches the provider', async () => {
    const provider = createMockProvider({ id: 'mock', models: [{ id: 'echo', delayMs: 30 }] });
    const fusion = createFusion({ providers: [provider], healthIntervalMs: 0 });
    const { GET, POST, OPTIONS } = createNextRouteHandlers(fusion, { basePath: '/api' });

    const models = await GET(new Request('http://localhost/api/v1/models'));
    expect(await models.json()).toMatchObject({ data: [{ id: 'mock/echo' }] });
    const options = await OPTIONS(
      new Request('http://localhost/api/v1/chat/completions', { method: 'OPTIONS' }),
    );
    expect(options.headers.get('allow')).toBe('POST');

    const controller = new AbortController();
    const response = await POST(
      new Request('http://localhost/api/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock/echo',
          stream: true,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
        signal: controller.signal,
      }),
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await vi.waitFor(() => expect(provider.aborted).toHaveLength(1));
    await fusion.close({ timeoutMs: 100 });
  });
});
