import { getEventListeners } from 'node:events';
import { createFusion, FusionError } from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BASE_URL, callOptions, ORIGIN, sseResponse } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const RESPONSE = {
  id: 'resp_upstream_1',
  object: 'response',
  created_at: 1,
  status: 'completed',
  model: 'gpt-upstream',
  output: [
    {
      type: 'message',
      id: 'msg_1',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Searched and found.', annotations: [] }],
    },
  ],
  usage: { input_tokens: 3, output_tokens: 3, total_tokens: 6 },
};

/** Answers `/responses` (JSON, or SSE when asked to stream) and records the bodies received. */
function recordResponses() {
  const bodies: Record<string, unknown>[] = [];
  server.use(
    http.post(`${BASE_URL}/responses`, async ({ request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      bodies.push(body);
      if (body.stream !== true) return HttpResponse.json(RESPONSE);
      const event = (type: string, fields: object) =>
        `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
      return sseResponse(
        event('response.created', {
          sequence_number: 0,
          response: { ...RESPONSE, status: 'in_progress', output: [] },
        }) + event('response.completed', { sequence_number: 1, response: RESPONSE }),
      );
    }),
  );
  return bodies;
}

describe('doResponses (responses: true)', () => {
  it('is there only for an upstream that serves the Responses API', () => {
    expect(createOpenAICompatible({ id: 'lab', baseURL: BASE_URL }).doResponses).toBeUndefined();
    expect(createOpenAICompatible({ id: 'oa', baseURL: BASE_URL, responses: true }).doResponses).toBeTypeOf(
      'function',
    );
  });

  it('passes the body through and answers with the upstream JSON or stream as it is', async () => {
    const bodies = recordResponses();
    const provider = createOpenAICompatible({ id: 'oa', baseURL: BASE_URL, responses: true });
    const body = { model: 'gpt-upstream', input: 'Hi', tools: [{ type: 'web_search' }] };
    const json = await provider.doResponses!(body, callOptions());
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual(RESPONSE);
    const stream = await provider.doResponses!({ ...body, stream: true }, callOptions());
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await stream.text()).toContain('event: response.completed');
    expect(bodies).toEqual([body, { ...body, stream: true }]);
    await provider.close();
  });

  it('throws an upstream error as a FusionError with its status', async () => {
    server.use(
      http.post(`${BASE_URL}/responses`, () =>
        HttpResponse.json(
          { error: { message: 'No such tool', type: 'invalid_request_error', param: 'tools', code: null } },
          { status: 400 },
        ),
      ),
    );
    const provider = createOpenAICompatible({ id: 'oa', baseURL: BASE_URL, responses: true });
    const error = await provider.doResponses!({ model: 'gpt-upstream', input: 'Hi' }, callOptions()).catch(
      (caught: unknown) => caught,
    );
    expect(FusionError.isInstance(error)).toBe(true);
    expect((error as FusionError).status).toBe(400);
    await provider.close();
  });

  it('serves /v1/responses of its models by pass-through, built-in tools included', async () => {
    const bodies = recordResponses();
    server.use(
      http.get(`${ORIGIN}/health`, () => HttpResponse.json({ status: 'ok' })),
      http.get(`${BASE_URL}/queue/stats`, () => new HttpResponse(null, { status: 404 })),
    );
    const fusion = createFusion({
      healthIntervalMs: 0,
      providers: [
        createOpenAICompatible({ id: 'oa', baseURL: BASE_URL, responses: true, models: ['gpt-upstream'] }),
      ],
    });
    const client = new OpenAI({
      baseURL: 'http://fusion.localhost/v1',
      apiKey: 'unused',
      maxRetries: 0,
      fetch: (url, init) => fusion.handle(new Request(url, init)),
    });
    const answer = await client.responses.create({
      model: 'oa/gpt-upstream',
      input: 'Hi',
      tools: [{ type: 'web_search' }],
    });
    expect(answer.output_text).toBe('Searched and found.');
    const final = await client.responses.stream({ model: 'oa/gpt-upstream', input: 'Hi' }).finalResponse();
    expect(final.output_text).toBe('Searched and found.');
    expect(bodies.map((body) => body.model)).toEqual(['gpt-upstream', 'gpt-upstream']);
    await fusion.close({ timeoutMs: 100 });
  });

  it('lets go of the call once a stream is cancelled before it ends', async () => {
    server.use(
      http.post(`${BASE_URL}/responses`, () => {
        const open = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(
              new TextEncoder().encode('event: response.created\ndata: {"type":"response.created"}\n\n'),
            );
          },
        });
        return new HttpResponse(open, { headers: { 'content-type': 'text/event-stream' } });
      }),
    );
    const provider = createOpenAICompatible({ id: 'oa', baseURL: BASE_URL, responses: true });
    const controller = new AbortController();
    const response = await provider.doResponses!(
      { model: 'gpt-upstream', input: 'Hi', stream: true },
      callOptions({ signal: controller.signal }),
    );
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('response.created');
    await reader.cancel();
    // The exchange is released: it no longer listens to the call's signal.
    await vi.waitFor(() => expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0));
    await provider.close();
  });
});
