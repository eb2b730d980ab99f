import { QueueFullError, UpstreamError } from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, callOptions, jsonFixtureResponse } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe('doForward', () => {
  it('sends a multipart form as it is, with the request id, and returns the answer', async () => {
    let form: FormData | undefined;
    let headers: Headers | undefined;
    server.use(
      http.post(`${BASE_URL}/audio/transcriptions`, async ({ request }) => {
        headers = request.headers;
        form = await request.formData();
        return HttpResponse.json({ text: 'hello' });
      }),
    );
    const body = new FormData();
    body.set('model', 'whisper-tiny');
    body.set('file', new File([new Uint8Array([1, 2, 3])], 'clip.wav', { type: 'audio/wav' }));
    body.set('language', 'en');
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const response = await provider.doForward(
      { model: 'whisper-tiny', path: '/audio/transcriptions', body },
      callOptions({ requestId: 'req-audio' }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ text: 'hello' });
    expect(headers?.get('x-request-id')).toBe('req-audio');
    expect(headers?.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
    expect(form?.get('model')).toBe('whisper-tiny');
    expect(form?.get('language')).toBe('en');
    const file = form?.get('file') as File;
    expect(file.name).toBe('clip.wav');
    expect(file.type).toBe('audio/wav');
    expect([...new Uint8Array(await file.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('sends a JSON body and maps upstream errors as for chat', async () => {
    let received: unknown;
    server.use(
      http.post(`${BASE_URL}/images/generations`, async ({ request }) => {
        received = await request.json();
        return jsonFixtureResponse('upstream-error-429.json', 429);
      }),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const error = await provider
      .doForward(
        { model: 'flux', path: '/images/generations', body: { model: 'flux', prompt: 'a fox' } },
        callOptions(),
      )
      .catch((caught: unknown) => caught);
    expect(received).toEqual({ model: 'flux', prompt: 'a fox' });
    expect(error).toBeInstanceOf(QueueFullError);

    server.use(
      http.post(`${BASE_URL}/images/generations`, () => jsonFixtureResponse('upstream-error-500.json', 500)),
    );
    await expect(
      provider.doForward(
        { model: 'flux', path: '/images/generations', body: { model: 'flux' } },
        callOptions(),
      ),
    ).rejects.toBeInstanceOf(UpstreamError);
  });
});
