/**
 * Deadlines through real HTTP: a hung target inside a vote or a mixture-of-agents does not hold the
 * answer past the pipeline's deadline (the answer is marked partial and the hung call is aborted
 * upstream); the first-token and idle timeouts end silent upstream streams.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type FusionStack,
  postChat,
  sseEvents,
  startFusionStack,
  streamedText,
  USER_MESSAGE,
} from './fusion-stack.js';

const REPLY = 'The answer is 42.';
/** The pipelines' wall-time limit; the answers must come well before the 15 s client timeout. */
const DEADLINE_MS = 1500;

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      reply: REPLY,
      models: {
        'hung-vote': 'silence-before-headers',
        'hung-vote-stream': 'silence-before-headers',
        'hung-moa': 'silence',
        mute: 'silence',
        'mute-direct': 'silence',
        stalls: 'silence-after-first-chunk',
      },
    },
    fusion: {
      firstTokenTimeoutMs: 400,
      idleTimeoutMs: 400,
      resilience: { retry: { maxRetries: 0 } },
      pipelines: [
        {
          name: 'fusion/vote',
          strategy: 'vote',
          options: { samples: 3, earlyStop: false },
          targets: ['faults/steady', 'faults/hung-vote', 'faults/steady'],
          limits: { timeoutMs: DEADLINE_MS },
        },
        {
          name: 'fusion/vote-stream',
          strategy: 'vote',
          options: { samples: 3, earlyStop: false },
          targets: ['faults/steady', 'faults/hung-vote-stream', 'faults/steady'],
          limits: { timeoutMs: DEADLINE_MS },
        },
        {
          name: 'fusion/moa',
          strategy: 'mixture-of-agents',
          options: { proposers: ['faults/steady', 'faults/hung-moa'], aggregator: 'faults/steady' },
          targets: ['faults/steady'],
          limits: { timeoutMs: DEADLINE_MS },
        },
        { name: 'fusion/mute-then-steady', strategy: 'fallback', targets: ['faults/mute', 'faults/steady'] },
      ],
    },
  });
});
afterAll(() => stack?.close());

interface FusedBody {
  choices: { message: { content: string } }[];
  fusion: { trace_id: string; partial: boolean };
}

async function traceOf(id: string) {
  const response = await fetch(`${stack.url}/api/fusion/traces/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    partial?: boolean;
    calls: { target: string; outcome: string; role?: string }[];
  };
}

describe('a hung target inside a fan-out', () => {
  it('vote: answers by the deadline, marked partial, with the hung call aborted upstream', async () => {
    const startedAt = Date.now();
    const response = await postChat(stack.url, { model: 'fusion/vote' });
    const elapsed = Date.now() - startedAt;
    expect(response.status).toBe(200);
    const body = (await response.json()) as FusedBody;
    expect(body.choices[0]!.message.content).toBe(REPLY);
    expect(body.fusion.partial).toBe(true);
    // Answered by the deadline (generous margin above it, far below the upstream's "never").
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1000);
    const trace = await traceOf(body.fusion.trace_id);
    expect(trace.partial).toBe(true);
    expect(
      trace.calls.filter((call) => call.target === 'faults/hung-vote').map((call) => call.outcome),
    ).toEqual(['timeout']);
    await vi.waitFor(() => expect(stack.upstream.chatAborts('hung-vote')).toHaveLength(1));
  });

  it('vote, streamed to the openai client: the last chunk says partial', async () => {
    const stream = await stack.client.chat.completions.create({
      model: 'fusion/vote-stream',
      messages: [USER_MESSAGE],
      stream: true,
    });
    let text = '';
    let fusion: { partial: boolean } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      fusion ??= (chunk as unknown as { fusion?: { partial: boolean } }).fusion;
    }
    expect(text).toBe(REPLY);
    expect(fusion?.partial).toBe(true);
    await vi.waitFor(() => expect(stack.upstream.chatAborts('hung-vote-stream')).toHaveLength(1));
  });

  it('mixture-of-agents: the aggregator answers from the proposers that made it, marked partial', async () => {
    const startedAt = Date.now();
    const response = await postChat(stack.url, { model: 'fusion/moa' });
    const elapsed = Date.now() - startedAt;
    expect(response.status).toBe(200);
    const body = (await response.json()) as FusedBody;
    expect(body.choices[0]!.message.content).toBe(REPLY);
    expect(body.fusion.partial).toBe(true);
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1000);
    const trace = await traceOf(body.fusion.trace_id);
    expect(trace.calls.map((call) => [call.role, call.target, call.outcome])).toEqual(
      expect.arrayContaining([
        ['proposer', 'faults/steady', 'ok'],
        ['proposer', 'faults/hung-moa', 'timeout'],
        ['aggregator', 'faults/steady', 'ok'],
      ]),
    );
    // The aggregator saw the one answer that arrived.
    const aggregatorRequest = stack.upstream.chatRequests('steady').at(-1)!.body as {
      messages: { role: string; content: string }[];
    };
    expect(JSON.stringify(aggregatorRequest.messages)).toContain(REPLY);
    await vi.waitFor(() => expect(stack.upstream.chatAborts('hung-moa')).toHaveLength(1));
  });
});

describe('stream timeouts through real HTTP', () => {
  it('first-token timeout: a silent target is aborted and the stream falls back cleanly', async () => {
    const response = await postChat(stack.url, { model: 'fusion/mute-then-steady', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(streamedText(events)).toBe(REPLY);
    expect(events.at(-1)).toBe('[DONE]');
    await vi.waitFor(() => expect(stack.upstream.chatAborts('mute')).toHaveLength(1));
    expect(stack.upstream.chatAborts('mute')[0]!.afterMs).toBeGreaterThanOrEqual(350);
  });

  it('first-token timeout on a model called directly: 504 before the stream commits', async () => {
    const response = await postChat(stack.url, { model: 'faults/mute-direct', stream: true });
    expect(response.status).toBe(504);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe('timeout_first_token');
    await vi.waitFor(() => expect(stack.upstream.chatAborts('mute-direct')).toHaveLength(1));
  });

  it('idle timeout: a stream that stalls after its first chunk ends with one error event', async () => {
    const response = await postChat(stack.url, { model: 'faults/stalls', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(streamedText(events)).toBe('The');
    const errors = events.filter((event) => typeof event === 'object' && event !== null && 'error' in event);
    expect(errors).toEqual([{ error: expect.objectContaining({ code: 'timeout_idle' }) }]);
    expect(events.at(-1)).toBe(errors[0]);
    await vi.waitFor(() => expect(stack.upstream.chatAborts('stalls')).toHaveLength(1));
  });
});
