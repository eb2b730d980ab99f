/**
 * Hedged requests through real HTTP: `race` with `hedgeDelayMs` starts the second target when the
 * first has not answered within the delay, takes the first answer, and aborts the loser upstream.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FusionStack, postChat, sseEvents, startFusionStack, streamedText } from './fusion-stack.js';

const REPLY = 'The answer is 42.';
const HEDGE_DELAY_MS = 100;

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      reply: REPLY,
      models: {
        slow: 'slow-ms=5000',
        'slow-first-token': 'first-token-delay-ms=5000',
        quick: {},
        'quick-stream': {},
        prompt: {},
        backup: {},
      },
    },
    record: ['hedge:fire'],
    fusion: {
      pipelines: [
        {
          name: 'fusion/hedged',
          strategy: 'race',
          options: { hedgeDelayMs: HEDGE_DELAY_MS },
          targets: ['faults/slow', 'faults/quick'],
        },
        {
          name: 'fusion/hedged-stream',
          strategy: 'race',
          options: { hedgeDelayMs: HEDGE_DELAY_MS },
          targets: ['faults/slow-first-token', 'faults/quick-stream'],
        },
        {
          name: 'fusion/unhedged',
          strategy: 'race',
          options: { hedgeDelayMs: 2000 },
          targets: ['faults/prompt', 'faults/backup'],
        },
      ],
    },
  });
});
afterAll(() => stack?.close());

describe('race with hedgeDelayMs', () => {
  it('fires the second target after the delay when the first is slow, and aborts the loser', async () => {
    const response = await postChat(
      stack.url,
      { model: 'fusion/hedged' },
      { headers: { 'x-request-id': 'hedge-1' } },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content).toBe(REPLY);

    const [slow] = stack.upstream.chatRequests('slow');
    const [quick] = stack.upstream.chatRequests('quick');
    // The hedge went out after the primary, on the hedge timer (the event fires from it). The gap
    // seen at the upstream is not asserted: on a busy machine the primary itself may arrive late.
    expect(quick!.at).toBeGreaterThanOrEqual(slow!.at);
    expect(stack.events).toContainEqual({
      name: 'hedge:fire',
      payload: expect.objectContaining({ requestId: 'hedge-1', target: 'faults/quick' }),
    });
    // The slow loser was cut at once, long before its 5 s answer.
    await vi.waitFor(() => expect(stack.upstream.chatAborts('slow')).toHaveLength(1));
    expect(stack.upstream.chatAborts('slow')[0]!.afterMs).toBeLessThan(2000);

    const trace = (await (
      await fetch(`${stack.url}/api/fusion/traces/${response.headers.get('x-fusion-trace-id')}`)
    ).json()) as { decision: { winner: string }; calls: { target: string; outcome: string; role: string }[] };
    expect(trace.decision.winner).toBe('faults/quick');
    expect(trace.calls.map((call) => [call.role, call.target, call.outcome])).toEqual([
      ['primary', 'faults/slow', 'aborted'],
      ['hedge', 'faults/quick', 'ok'],
    ]);
  });

  it('streams the first target to produce a token and aborts the other', async () => {
    const response = await postChat(stack.url, { model: 'fusion/hedged-stream', stream: true });
    expect(response.status).toBe(200);
    const events = await sseEvents(response);
    expect(streamedText(events)).toBe(REPLY);
    expect(events.at(-1)).toBe('[DONE]');
    await vi.waitFor(() => expect(stack.upstream.chatAborts('slow-first-token')).toHaveLength(1));
    expect(stack.upstream.chatRequests('quick-stream')).toHaveLength(1);
  });

  it('does not hedge a target that answers within the delay', async () => {
    const response = await postChat(stack.url, { model: 'fusion/unhedged' });
    expect(response.status).toBe(200);
    expect(stack.upstream.chatRequests('prompt')).toHaveLength(1);
    expect(stack.upstream.chatRequests('backup')).toHaveLength(0);
  });
});
