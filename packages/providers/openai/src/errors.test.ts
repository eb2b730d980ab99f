import { createServer } from 'node:net';
import {
  AuthenticationError,
  type ChatRequest,
  FusionError,
  InvalidRequestError,
  ModelNotFoundError,
  PayloadTooLargeError,
  QueueFullError,
  UnavailableError,
  UpstreamError,
} from '@fusionkit/core';
import { HttpResponse, http, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, callOptions, jsonFixtureResponse, readFixture } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';
import { mapUpstreamError } from './map-upstream-error.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const request: ChatRequest = { model: 'qwen3-8b', messages: [{ role: 'user', content: 'Hi' }] };

interface ErrorCase {
  name: string;
  response: () => Response;
  type: abstract new (...args: never[]) => FusionError;
  status: number;
  message: RegExp;
  param?: string | null;
  retryable: boolean;
  retryAfterMs?: number;
}

const cases: ErrorCase[] = [
  {
    name: 'upstream 400 {detail: {error}}',
    response: () => jsonFixtureResponse('upstream-error-400.json', 400),
    type: InvalidRequestError,
    status: 400,
    message: /^Prompt has 40213 tokens, more than the context length of 32768\.$/,
    retryable: false,
  },
  {
    // The client's request was valid (ours passed it); the upstream disagreed with our translation.
    name: 'upstream 422 validation {detail: [...]}',
    response: () => jsonFixtureResponse('upstream-error-422.json', 422),
    type: UpstreamError,
    status: 502,
    message:
      /rejected the request it was sent: Invalid request: messages\[0\]\.role: Input should be 'system', 'user', 'assistant' or 'tool'; stop: Input should be a valid list$/,
    param: null,
    retryable: false,
  },
  {
    name: 'OpenAI 401 {error} with a string code',
    response: () =>
      HttpResponse.json(
        {
          error: {
            message: 'Incorrect API key provided: sk-test.',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        },
        { status: 401 },
      ),
    type: AuthenticationError,
    status: 401,
    message: /Incorrect API key provided/,
    retryable: false,
  },
  {
    name: 'upstream 404 model_not_found with an integer code',
    response: () => jsonFixtureResponse('upstream-error-404-model.json', 404),
    type: ModelNotFoundError,
    status: 404,
    message: /^Model 'qwen3-8b' not found/,
    param: 'model',
    retryable: false,
  },
  {
    name: 'lab 404 model_not_found',
    response: () => jsonFixtureResponse('lab-error-404-model.json', 404),
    type: ModelNotFoundError,
    status: 404,
    message: /^Model 'qwen3-8b' not found$/,
    retryable: false,
  },
  {
    name: 'a 404 that is not about the model',
    response: () => HttpResponse.json({ detail: 'Not Found' }, { status: 404 }),
    type: UpstreamError,
    status: 502,
    message: /answered 404: Not Found/,
    retryable: false,
  },
  {
    name: '413 with a plain-text body',
    response: () => new HttpResponse('Request Entity Too Large', { status: 413 }),
    type: PayloadTooLargeError,
    status: 413,
    message: /^Request Entity Too Large$/,
    retryable: false,
  },
  {
    name: 'upstream 429 queue full with Retry-After',
    response: () => jsonFixtureResponse('upstream-error-429.json', 429, { 'retry-after': '3' }),
    type: QueueFullError,
    status: 429,
    message: /is busy: Too many requests\. Service is at capacity\.$/,
    retryable: true,
    retryAfterMs: 3000,
  },
  {
    name: 'upstream 500 queue timeout',
    response: () => jsonFixtureResponse('upstream-error-500.json', 500),
    type: UpstreamError,
    status: 502,
    message: /failed: Request processing timed out after 300 seconds$/,
    retryable: true,
  },
  {
    name: 'upstream 503 {error} with a string code',
    response: () => jsonFixtureResponse('upstream-error-503.json', 503),
    type: UnavailableError,
    status: 503,
    message: /is unavailable: Model handler not initialized$/,
    retryable: true,
  },
  {
    name: 'upstream 503 model_load_error',
    response: () => jsonFixtureResponse('upstream-error-503-model-load.json', 503, { 'retry-after': '10' }),
    type: UnavailableError,
    status: 503,
    message: /Failed to load model/,
    retryable: true,
    retryAfterMs: 10_000,
  },
  {
    name: 'lab 500 "429: {...}" (full queue behind a catch-all)',
    response: () => jsonFixtureResponse('lab-error-500-queue-full.json', 500),
    type: QueueFullError,
    status: 429,
    message: /is busy: Too many requests\. Service is at capacity\.$/,
    retryable: true,
    retryAfterMs: 1000,
  },
  {
    name: 'upstream 429 {detail: {error}} without Retry-After',
    response: () =>
      HttpResponse.json(
        { detail: { error: { message: 'Queue is full', type: 'rate_limit_exceeded', code: 429 } } },
        { status: 429 },
      ),
    type: QueueFullError,
    status: 429,
    message: /is busy: Queue is full$/,
    retryable: true,
    retryAfterMs: 1000,
  },
  {
    name: 'lab 500 "400: {...}" (prompt too long behind a catch-all)',
    response: () => jsonFixtureResponse('lab-error-500-prompt-too-long.json', 500),
    type: InvalidRequestError,
    status: 400,
    message: /^Prompt is too long: 40213 tokens, the model accepts at most 32768\.$/,
    retryable: false,
  },
  {
    name: '502 with a plain-text body',
    response: () =>
      new HttpResponse('Bad Gateway', { status: 502, headers: { 'content-type': 'text/plain' } }),
    type: UpstreamError,
    status: 502,
    message: /failed: Bad Gateway$/,
    retryable: true,
  },
  {
    name: 'HTTP 200 carrying an error body',
    response: () =>
      HttpResponse.json({
        error: { message: 'Model handler not initialized', type: 'service_unavailable', code: 503 },
      }),
    type: UnavailableError,
    status: 503,
    message: /Model handler not initialized/,
    retryable: true,
  },
];

describe('upstream errors', () => {
  it.each(cases)('maps $name', async (errorCase) => {
    server.use(http.post(`${BASE_URL}/chat/completions`, errorCase.response));
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const error = await provider.doChat(request, callOptions()).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(errorCase.type);
    expect(FusionError.isInstance(error)).toBe(true);
    const fusionError = error as FusionError;
    expect(fusionError.status).toBe(errorCase.status);
    expect(fusionError.message).toMatch(errorCase.message);
    expect(fusionError.isRetryable).toBe(errorCase.retryable);
    if (errorCase.param !== undefined) expect(fusionError.param).toBe(errorCase.param);
    if (errorCase.retryAfterMs !== undefined) expect(fusionError.retryAfterMs).toBe(errorCase.retryAfterMs);
  });

  it('maps a refused connection to a retryable UnavailableError', async () => {
    const port = await closedPort();
    const baseURL = `http://127.0.0.1:${port}/v1`;
    server.use(http.post(`${baseURL}/chat/completions`, () => passthrough()));
    const provider = createOpenAICompatible({ id: 'lab', baseURL });
    const error = await provider.doChat(request, callOptions()).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({
      status: 503,
      isRetryable: true,
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('maps a network error to a retryable UnavailableError', async () => {
    server.use(http.post(`${BASE_URL}/chat/completions`, () => HttpResponse.error()));
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    await expect(provider.doChat(request, callOptions())).rejects.toMatchObject({
      name: 'UnavailableError',
      isRetryable: true,
    });
  });

  it('rejects a success status with a body that is not JSON', async () => {
    server.use(http.post(`${BASE_URL}/chat/completions`, () => new HttpResponse('<html>oops</html>')));
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    await expect(provider.doChat(request, callOptions())).rejects.toBeInstanceOf(UpstreamError);
  });
});

describe('mapUpstreamError', () => {
  const context = { providerId: 'lab' };

  it('takes the status of an error inside a stream from its code', () => {
    const queueFull = JSON.parse(readFixture('upstream-stream-error.chunks.txt').split('\n\n')[1]!.slice(6));
    expect(mapUpstreamError(200, queueFull, context)).toBeInstanceOf(QueueFullError);
    expect(mapUpstreamError(200, { error: { message: 'boom', code: 503 } }, context)).toBeInstanceOf(
      UnavailableError,
    );
    expect(
      mapUpstreamError(200, { error: { message: 'boom', type: 'server_error' } }, context),
    ).toMatchObject({
      name: 'UpstreamError',
      status: 502,
    });
  });

  it('reads Retry-After given as an HTTP date', () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    const error = mapUpstreamError(429, '{"detail":"Too many requests"}', {
      ...context,
      headers: { 'retry-after': date },
    });
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('accepts {error: "text"}, {message} and empty bodies', () => {
    expect(mapUpstreamError(400, '{"error":"model is required"}', context).message).toBe('model is required');
    expect(mapUpstreamError(400, '{"message":"bad input","code":400}', context).message).toBe('bad input');
    expect(mapUpstreamError(500, '', context).message).toMatch(/answered HTTP 500/);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
