import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFusion, type Fusion } from '../../fusion/fusion.js';
import type { CallOptions } from '../../spec/call-options.js';
import type { ForwardRequest } from '../../spec/provider/v1/forward-request.js';
import { createMockProvider } from '../../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

/** A mock provider that forwards: it records each request and answers when `release` is called (or at once). */
function forwardingProvider(options: { hold?: boolean } = {}) {
  const forwarded: { request: ForwardRequest; options: CallOptions }[] = [];
  const releases: (() => void)[] = [];
  const provider = Object.assign(createMockProvider({ id: 'up', models: [{ id: 'whisper' }] }), {
    async doForward(request: ForwardRequest, callOptions: CallOptions): Promise<Response> {
      forwarded.push({ request, options: callOptions });
      if (options.hold) {
        await new Promise<void>((resolve, reject) => {
          releases.push(resolve);
          callOptions.signal.addEventListener('abort', () => reject(callOptions.signal.reason), {
            once: true,
          });
        });
      }
      return Response.json({ text: 'heard' });
    },
  });
  return { provider, forwarded, releases };
}

function transcription(model: string, requestId?: string, signal?: AbortSignal): Request {
  const form = new FormData();
  form.set('file', new File(['RIFF'], 'a.wav', { type: 'audio/wav' }));
  form.set('model', model);
  form.set('language', 'en');
  return new Request('http://localhost/v1/audio/transcriptions', {
    method: 'POST',
    body: form,
    headers: requestId ? { 'x-request-id': requestId } : {},
    ...(signal ? { signal } : {}),
  });
}

function formRequest(path: string, fields: Record<string, string>): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return new Request(`http://localhost${path}`, { method: 'POST', body: form });
}

describe('passthrough routes', () => {
  it('forwards a multipart body with the provider’s own model id and the request id', async () => {
    const { provider, forwarded } = forwardingProvider();
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    const response = await fusion.handle(transcription('up/whisper', 'req-1'));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-1');
    expect(await response.json()).toEqual({ text: 'heard' });
    const { request, options } = forwarded[0]!;
    expect(request).toMatchObject({ model: 'whisper', path: '/audio/transcriptions' });
    const body = request.body as FormData;
    expect(body.get('model')).toBe('whisper');
    expect(body.get('language')).toBe('en');
    expect((body.get('file') as File).name).toBe('a.wav');
    expect(options.requestId).toBe('req-1');
  });

  it('waits in the model’s queue like chat: a full queue is a 429', async () => {
    const { provider, forwarded, releases } = forwardingProvider({ hold: true });
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [provider],
      queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 },
    });
    const first = fusion.handle(transcription('up/whisper'));
    await vi.waitFor(() => expect(forwarded).toHaveLength(1));
    const refused = await fusion.handle(transcription('up/whisper'));
    expect(refused.status).toBe(429);
    releases[0]!();
    expect((await first).status).toBe(200);
    // The slot is free again.
    const next = fusion.handle(transcription('up/whisper'));
    await vi.waitFor(() => expect(forwarded).toHaveLength(2));
    releases[1]!();
    expect((await next).status).toBe(200);
  });

  it('aborts the forwarded call when the client goes away', async () => {
    const { provider, forwarded } = forwardingProvider({ hold: true });
    fusion = createFusion({ healthIntervalMs: 0, providers: [provider] });
    const controller = new AbortController();
    const pending = fusion.handle(transcription('up/whisper', undefined, controller.signal));
    await vi.waitFor(() => expect(forwarded).toHaveLength(1));
    controller.abort();
    await pending;
    expect(forwarded[0]!.options.signal.aborted).toBe(true);
    await vi.waitFor(() => expect(fusion!.inFlight).toBe(0));
  });

  it('answers what cannot be forwarded with a 4xx naming the field', async () => {
    const { provider } = forwardingProvider();
    const plain = createMockProvider({ id: 'plain', models: [{ id: 'chatty' }] });
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [provider, plain],
      pipelines: [{ name: 'fusion/first', strategy: 'fallback', targets: ['up/whisper'] }],
    });
    const cases: [Request, number, string | null][] = [
      [transcription('fusion/first'), 400, 'model'],
      [transcription('plain/chatty'), 400, 'model'],
      [transcription('up/nope'), 404, 'model'],
      [transcription(''), 400, 'model'],
      [
        new Request('http://localhost/v1/audio/transcriptions', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=x' },
          body: 'not a form',
        }),
        400,
        null,
      ],
      [
        new Request('http://localhost/v1/images/generations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'a fox' }),
        }),
        400,
        'model',
      ],
      // The file the upstream needs, missing or sent as text: the client's mistake, not a 502.
      [formRequest('/v1/audio/transcriptions', { model: 'up/whisper', language: 'en' }), 400, 'file'],
      [formRequest('/v1/audio/transcriptions', { model: 'up/whisper', file: 'not a file' }), 400, 'file'],
      [formRequest('/v1/images/edits', { model: 'up/whisper', prompt: 'a hat' }), 400, 'image'],
      [
        new Request('http://localhost/v1/images/generations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'up/whisper', prompt: 7 }),
        }),
        400,
        'prompt',
      ],
    ];
    for (const [request, status, param] of cases) {
      const response = await fusion.handle(request);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { param: string | null } }).error.param).toBe(param);
    }
  });
});
