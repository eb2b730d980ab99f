/**
 * The default policy of a model called by name (no pipeline), through real HTTP and the `openai`
 * client: retries before a stream commits (never after), a circuit breaker per target whose 503 says
 * when to come back, first-token and response timeouts, an upstream's overload passed on with a
 * `Retry-After`, an upstream's 422 passed on as its own failure, and `resilience: false`.
 */
import { createFusion } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type FusionStack,
  PROVIDER,
  payloadsOf,
  postChat,
  sseEvents,
  startFusionStack,
  streamedText,
  USER_MESSAGE,
} from './fusion-stack.js';

const REPLY = 'The answer is 42.';
const COOLDOWN_MS = 4000;

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      reply: REPLY,
      models: {
        flaky: { fault: 'status-500', times: 1 },
        'flaky-stream': { fault: 'status-503', times: 1 },
        'silent-start': { fault: 'silence', times: 1 },
        silent: { fault: 'silence', times: 1 },
        cutoff: 'reset-after-first-chunk',
        down: 'status-500',
        'busy-detail': 'status-429; shape=detail',
        'busy-lab': 'status-429; shape=lab',
        'busy-stream': 'status-429; shape=detail',
        picky: 'status-422; shape=validation; message=Input should be a valid string',
        lazy: {},
      },
    },
    record: ['call:retry', 'breaker:open'],
    fusion: {
      // Generous for a busy machine, yet short enough that a stall is seen within the test.
      firstTokenTimeoutMs: 1500,
      responseTimeoutMs: 1500,
      resilience: {
        retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 500 },
        breaker: { consecutiveFailures: 3, cooldownMs: COOLDOWN_MS },
      },
    },
  });
});
afterAll(() => stack?.close());

const model = (id: string) => `${PROVIDER}/${id}`;

describe('retries of a model called by name', () => {
  it('retries a failed non-streamed call and answers 200', async () => {
    const answer = await stack.client.chat.completions.create({
      model: model('flaky'),
      messages: [USER_MESSAGE],
    });
    expect(answer.choices[0]?.message.content).toBe(REPLY);
    expect(stack.upstream.chatRequests('flaky')).toHaveLength(2);
  });

  it('retries a stream that failed before its first token', async () => {
    const stream = await stack.client.chat.completions.create({
      model: model('flaky-stream'),
      messages: [USER_MESSAGE],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(REPLY);
    expect(stack.upstream.chatRequests('flaky-stream')).toHaveLength(2);
  });

  it('gives a stream whose first token never comes another attempt after the first-token timeout', async () => {
    const response = await postChat(stack.url, { model: model('silent-start'), stream: true });
    expect(response.status).toBe(200);
    expect(streamedText(await sseEvents(response))).toBe(REPLY);
    const [first, second] = stack.upstream.chatRequests('silent-start');
    expect(second).toBeDefined();
    // The stalled attempt was given up (its connection closed). The gateway closes it before the
    // retry goes out, but the upstream sees two sockets with no order between them: its view of
    // the close may come a few ms after the retry's request, so only the close itself is asserted.
    await vi.waitFor(() => expect(stack.upstream.chatAborts('silent-start')).toHaveLength(1));
    const [abort] = stack.upstream.chatAborts('silent-start');
    expect(first!.at).toBeLessThanOrEqual(abort!.at);
  });

  it('answers 504 timeout_response when a non-streamed answer does not come in time', async () => {
    const response = await postChat(stack.url, { model: model('silent') });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('timeout_response');
    // The stalled request was given up upstream, at the response timeout, not at the total one.
    await vi.waitFor(() => expect(stack.upstream.chatAborts('silent')).toHaveLength(1));
    expect(stack.upstream.chatRequests('silent')).toHaveLength(1);
  });

  it('never retries a stream once content went out: the client gets the one error event', async () => {
    const response = await postChat(stack.url, { model: model('cutoff'), stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(streamedText(events)).toBe('The');
    expect(
      events.filter((event) => typeof event === 'object' && event !== null && 'error' in event),
    ).toHaveLength(1);
    expect(stack.upstream.chatRequests('cutoff')).toHaveLength(1);
  });
});

describe('the circuit breaker of a model called by name', () => {
  it('opens after repeated failures and refuses with the cooldown really left as Retry-After', async () => {
    const failed = await postChat(stack.url, { model: model('down') });
    expect(failed.status).toBe(502);
    expect(stack.upstream.chatRequests('down')).toHaveLength(3);
    expect(payloadsOf(stack, 'breaker:open').map((event) => event.model)).toContain(model('down'));

    const refused = await postChat(stack.url, { model: model('down') });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('circuit_open');
    // Most of the 4 s cooldown is left: not a flat 1 s.
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(2);
    expect(retryAfter).toBeLessThanOrEqual(COOLDOWN_MS / 1000);
    expect(stack.upstream.chatRequests('down')).toHaveLength(3);
  });
});

describe('upstream errors reach the client as what they are', () => {
  for (const shape of ['detail', 'lab'] as const) {
    it(`passes on an upstream overload 429 (${shape} shape) with a Retry-After`, async () => {
      const response = await postChat(stack.url, { model: model(`busy-${shape}`) });
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /Injected fault: HTTP 429/,
      );
    });
  }

  it('passes on an upstream overload 429 before a stream starts with a Retry-After', async () => {
    const response = await postChat(stack.url, { model: model('busy-stream'), stream: true });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it("answers an upstream 422 on a valid request with 502 and the upstream's message, not a 400", async () => {
    for (const stream of [false, true]) {
      const error = await stack.client.chat.completions
        .create({ model: model('picky'), messages: [USER_MESSAGE], stream })
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(error).toBeInstanceOf(APIError);
      const apiError = error as APIError;
      expect(apiError.status).toBe(502);
      expect(apiError.code).toBe('upstream_error');
      expect(apiError.param ?? null).toBeNull();
      expect(apiError.message).toMatch(/Input should be a valid string/);
    }
    // The same request would fail the same way: not retried.
    expect(stack.upstream.chatRequests('picky')).toHaveLength(2);
  });
});

describe('resilience: false', () => {
  it('makes a model called by name a single attempt with no breaker', async () => {
    const providers = [
      createOpenAICompatible({
        id: 'direct',
        baseURL: stack.upstream.baseURL,
        headers: { 'x-fault': 'status-500' },
      }),
    ];
    const strict = createFusion({ healthIntervalMs: 0, resilience: false, providers });
    const resilient = createFusion({
      healthIntervalMs: 0,
      resilience: { retry: { baseDelayMs: 1, maxDelayMs: 5 } },
      providers,
    });
    try {
      await Promise.all([strict.ready, resilient.ready]);
      const request = { model: 'direct/steady', messages: [USER_MESSAGE] };
      stack.upstream.reset();
      await expect(strict.chat(request)).rejects.toMatchObject({ status: 502 });
      expect(stack.upstream.chatRequests('steady')).toHaveLength(1);
      for (let index = 0; index < 6; index++) await strict.chat(request).catch(() => {});
      expect(strict.targetHealth.circuit('direct/steady')).toBe('closed');

      stack.upstream.reset();
      await expect(resilient.chat(request)).rejects.toMatchObject({ status: 502 });
      expect(stack.upstream.chatRequests('steady')).toHaveLength(3);
    } finally {
      await Promise.all([strict.close(), resilient.close()]);
    }
  });
});

describe('a stream that is never iterated', () => {
  it('sends no request upstream, for a model or a pipeline', async () => {
    stack.fusion.registerPipeline({ name: 'fusion/lazy', strategy: 'fallback', targets: [model('lazy')] });
    stack.fusion.stream({ model: model('lazy'), messages: [USER_MESSAGE] });
    stack.fusion.stream({ model: 'fusion/lazy', messages: [USER_MESSAGE] });
    const closed = stack.fusion.stream({ model: model('lazy'), messages: [USER_MESSAGE] });
    await closed.return();
    // A stream that is read goes out and ends: by then a request of the others would have arrived.
    for await (const _chunk of stack.fusion.stream({ model: model('steady'), messages: [USER_MESSAGE] })) {
      // Reading to the end.
    }
    expect(stack.upstream.chatRequests('steady').length).toBeGreaterThan(0);
    expect(stack.upstream.chatRequests('lazy')).toEqual([]);
  });
});
