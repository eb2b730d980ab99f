/**
 * Fallback through real HTTP: a failure before the first token is invisible to the client; a failure
 * after it either continues on the next target or ends the stream with exactly one error event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FusionStack,
  postChat,
  sseEvents,
  startFusionStack,
  streamedText,
  USER_MESSAGE,
} from './fusion-stack.js';

const REPLY = 'The answer is 42.';

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    // The same upstream through a provider whose every request asks for a fault by header.
    providers: [{ id: 'boom', headers: { 'x-fault': 'status-503' } }],
    upstream: {
      reply: REPLY,
      models: {
        broken: 'status-500',
        'broken-json': 'status-500',
        cutoff: 'reset-after-first-chunk',
        'cutoff-plain': 'reset-after-first-chunk',
      },
    },
    fusion: {
      resilience: { retry: { maxRetries: 1, baseDelayMs: 10 } },
      pipelines: [
        { name: 'fusion/fallback', strategy: 'fallback', targets: ['faults/broken', 'faults/steady'] },
        {
          name: 'fusion/fallback-json',
          strategy: 'fallback',
          targets: ['faults/broken-json', 'faults/steady'],
        },
        {
          name: 'fusion/continue',
          strategy: 'fallback',
          options: { continueOnFailure: true },
          targets: ['faults/cutoff', 'faults/steady'],
        },
        { name: 'fusion/header-fault', strategy: 'fallback', targets: ['boom/steady', 'faults/steady'] },
        {
          name: 'fusion/no-continue',
          strategy: 'fallback',
          targets: ['faults/cutoff-plain', 'faults/steady'],
        },
      ],
    },
  });
});
afterAll(() => stack?.close());

describe('fallback before the first token', () => {
  it('gives the streaming client a clean 200 when the first target answers 500', async () => {
    const stream = await stack.client.chat.completions.create({
      model: 'fusion/fallback',
      messages: [USER_MESSAGE],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(REPLY);
    // The failed target was tried (with its one retry) and never reached the client.
    expect(stack.upstream.chatRequests('broken')).toHaveLength(2);
    expect(stack.upstream.chatRequests('steady').length).toBeGreaterThanOrEqual(1);
  });

  it('gives the non-streaming client a clean 200 with the trace id', async () => {
    const response = await postChat(stack.url, { model: 'fusion/fallback-json' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { message: { content: string } }[]; model: string };
    expect(body.choices[0]!.message.content).toBe(REPLY);
    expect(body.model).toBe('fusion/fallback-json');
    const traceId = response.headers.get('x-fusion-trace-id');
    expect(traceId).toBeTruthy();
    const trace = (await (await fetch(`${stack.url}/api/fusion/traces/${traceId}`)).json()) as {
      calls: { target: string; outcome: string; retries: number }[];
    };
    expect(trace.calls.map((call) => [call.target, call.outcome])).toEqual([
      ['faults/broken-json', 'error'],
      ['faults/steady', 'ok'],
    ]);
    expect(trace.calls[0]!.retries).toBe(1);
  });

  it('falls back from a fault asked for by header (x-fault: status-503)', async () => {
    const before = stack.upstream.chatRequests('steady').length;
    const answer = await stack.client.chat.completions.create({
      model: 'fusion/header-fault',
      messages: [USER_MESSAGE],
    });
    expect(answer.choices[0]!.message.content).toBe(REPLY);
    const requests = stack.upstream.chatRequests('steady').slice(before);
    expect(requests.map((entry) => entry.fault)).toEqual(['status-503', 'status-503', '']);
  });
});

describe('a failure after the first token (connection reset after the first chunk)', () => {
  it('continues the answer on the next target with continueOnFailure', async () => {
    const response = await postChat(stack.url, { model: 'fusion/continue', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(events.filter((event) => typeof event === 'object' && event !== null && 'error' in event)).toEqual(
      [],
    );
    expect(events.at(-1)).toBe('[DONE]');
    // The continuation restarted the answer; the repeat was dropped, so the text reads once.
    expect(streamedText(events)).toBe(REPLY);
    // The next target got the partial answer as an assistant prefix.
    const continuation = stack.upstream.chatRequests('steady').at(-1)!.body as {
      messages: { role: string; content: string }[];
    };
    expect(continuation.messages).toContainEqual({ role: 'assistant', content: 'The' });
  });

  it('ends the stream with exactly one error event otherwise, and does not hang', async () => {
    const before = stack.upstream.chatRequests('steady').length;
    const response = await postChat(stack.url, { model: 'fusion/no-continue', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    const errors = events.filter((event) => typeof event === 'object' && event !== null && 'error' in event);
    expect(errors).toHaveLength(1);
    expect(events.at(-1)).toBe(errors[0]);
    expect(events).not.toContain('[DONE]');
    expect(streamedText(events)).toBe('The');
    expect((errors[0] as { error: { type: string } }).error.type).toBe('server_error');
    // Nothing was started on the next target once content had gone out.
    expect(stack.upstream.chatRequests('steady')).toHaveLength(before);
  });
});
