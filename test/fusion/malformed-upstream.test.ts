/**
 * Upstreams that send garbage: an SSE event that is not JSON, and a 5 MB line. Each ends in a clean
 * error (an HTTP error status before the stream commits, one error event after), never a crash or a
 * hang, and the provider never buffers more than its event limit.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FusionStack, postChat, sseEvents, startFusionStack, streamedText } from './fusion-stack.js';

const REPLY = 'The answer is 42.';
const EVENT_LIMIT = 1024 * 1024;
const HUGE = 5 * 1024 * 1024;

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      reply: REPLY,
      models: {
        garbled: 'malformed-sse',
        'garbled-late': 'malformed-sse; after-chunks=2',
        'garbled-first': 'malformed-sse',
        huge: 'huge-line',
        'huge-late': 'huge-line; after-chunks=1',
        'huge-default': 'huge-line',
      },
    },
    // The same upstream through a provider that allows 1 MiB per SSE event (the default is 8 MiB).
    providers: [{ id: 'tight', maxEventBytes: EVENT_LIMIT }],
    fusion: {
      resilience: { retry: { maxRetries: 0 } },
      pipelines: [
        {
          name: 'fusion/garbled-first',
          strategy: 'fallback',
          targets: ['faults/garbled-first', 'faults/steady'],
        },
      ],
    },
  });
});
afterAll(() => stack?.close());

function errorEvents(events: readonly unknown[]): unknown[] {
  return events.filter((event) => typeof event === 'object' && event !== null && 'error' in event);
}

describe('malformed SSE', () => {
  it('before the first token: a 502 with an OpenAI error body', async () => {
    const response = await postChat(stack.url, { model: 'faults/garbled', stream: true });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { message: string; type: string } };
    expect(body.error.type).toBe('server_error');
    expect(body.error.message).toMatch(/not JSON/);
  });

  it('after the first token: exactly one error event, then the stream closes', async () => {
    const response = await postChat(stack.url, { model: 'faults/garbled-late', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(streamedText(events)).toBe('The answer');
    expect(errorEvents(events)).toHaveLength(1);
    expect(events.at(-1)).toBe(errorEvents(events)[0]);
  });

  it('in a fallback pipeline: the next target answers, the client sees a clean stream', async () => {
    const stream = await stack.client.chat.completions.create({
      model: 'fusion/garbled-first',
      messages: [{ role: 'user', content: 'What is the answer?' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(REPLY);
  });
});

describe('a 5 MB SSE line', () => {
  it('over the event limit, before the first token: a 502, and the provider hangs up', async () => {
    const response = await postChat(stack.url, { model: 'tight/huge', stream: true });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain(`larger than ${EVENT_LIMIT} bytes`);
    // The provider stopped reading at the limit rather than buffering the whole line.
    await vi.waitFor(() => expect(stack.upstream.chatAborts('huge')).toHaveLength(1));
  });

  it('over the event limit, after the first token: exactly one error event', async () => {
    const response = await postChat(stack.url, { model: 'tight/huge-late', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(streamedText(events)).toBe('The');
    const errors = errorEvents(events);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toContain(`larger than ${EVENT_LIMIT} bytes`);
    expect(events.at(-1)).toBe(errors[0]);
  });

  it('within the default 8 MiB event limit: delivered whole', async () => {
    const response = await postChat(stack.url, { model: 'faults/huge-default', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(errorEvents(events)).toEqual([]);
    expect(streamedText(events)).toBe('x'.repeat(HUGE) + REPLY);
  });

  it('leaves the server healthy and answering', async () => {
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    const answer = await stack.client.chat.completions.create({
      model: 'faults/steady',
      messages: [{ role: 'user', content: 'Still there?' }],
    });
    expect(answer.choices[0]!.message.content).toBe(REPLY);
  });
});
