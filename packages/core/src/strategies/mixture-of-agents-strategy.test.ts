import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { collect, fakeContext, upstreamFailure } from './__fixtures__/fake-context.js';
import { mixtureOfAgentsStrategy } from './mixture-of-agents-strategy.js';
import { AGGREGATE_AND_SYNTHESIZE_PROMPT } from './moa-prompt.js';

const system = (request: ChatRequest) =>
  request.messages[0]!.role === 'system' ? (request.messages[0]!.content as string) : '';

describe('mixtureOfAgentsStrategy', () => {
  it('feeds each layer the previous answers, then the aggregator the last layer’s', async () => {
    const { context, calls, trace } = fakeContext({
      targets: {
        'lab/a': [{ reply: 'a1' }, { reply: 'a2' }],
        'lab/b': [{ reply: 'b1' }, { reply: 'b2' }],
        'lab/agg': { reply: 'final' },
      },
      order: ['lab/agg', 'lab/a', 'lab/b'],
      options: {
        layers: [
          ['lab/a', 'lab/b'],
          ['lab/a', 'lab/b'],
        ],
        aggregator: 'lab/agg',
      },
    });
    const result = await mixtureOfAgentsStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('final');
    expect(calls.map((call) => [call.target, call.role])).toEqual([
      ['lab/a', 'proposer'],
      ['lab/b', 'proposer'],
      ['lab/a', 'proposer'],
      ['lab/b', 'proposer'],
      ['lab/agg', 'aggregator'],
    ]);
    expect(system(calls[0]!.request)).toBe('');
    expect(system(calls[2]!.request)).toBe(`${AGGREGATE_AND_SYNTHESIZE_PROMPT}\n1. a1\n2. b1`);
    expect(system(calls[4]!.request)).toBe(`${AGGREGATE_AND_SYNTHESIZE_PROMPT}\n1. a2\n2. b2`);
    expect(calls[4]!.request.messages.at(-1)).toEqual({ role: 'user', content: 'Question?' });
    expect(trace.decision).toMatchObject({
      aggregator: 'lab/agg',
      layers: [{ answered: 2 }, { answered: 2 }],
    });
    expect(result.usage!.total_tokens).toBe(
      trace.calls.reduce((sum, call) => sum + call.usage!.total_tokens, 0),
    );
  });

  it('streams the aggregator only, with the usage of every call', async () => {
    const { context, calls, trace, aborted } = fakeContext({
      targets: { 'lab/agg': { reply: 'the synthesis' }, 'lab/a': { reply: 'proposal' } },
      options: { proposers: ['lab/a'], samples: 3 },
    });
    const { text, chunks } = await collect(mixtureOfAgentsStrategy().doStream!(context));
    expect(text).toBe('the synthesis');
    expect(aborted).toEqual([]);
    expect(calls.map((call) => [call.target, call.kind])).toEqual([
      ['lab/a', 'chat'],
      ['lab/a', 'chat'],
      ['lab/a', 'chat'],
      ['lab/agg', 'stream'],
    ]);
    expect(chunks.at(-1)!.usage).toEqual(trace.usage);
    expect(trace.usage!.completion_tokens).toBe(3 * 1 + 2);
  });

  it('appends the references to an existing system message', async () => {
    const { context, calls } = fakeContext({
      targets: { 'lab/a': { reply: 'p' }, 'lab/agg': {} },
      request: {
        model: 'm',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Q' },
        ],
      },
      options: { proposers: ['lab/a'], aggregator: 'lab/agg' },
    });
    await mixtureOfAgentsStrategy().doChat(context);
    expect(system(calls[1]!.request)).toBe(`Be brief.\n\n${AGGREGATE_AND_SYNTHESIZE_PROMPT}\n1. p`);
  });

  it('goes on without a hung or failed proposer by the layer deadline, marked partial', async () => {
    const { context, aborted, trace } = fakeContext({
      targets: {
        'lab/agg': { reply: 'done' },
        'lab/hung': { hang: true },
        'lab/bad': { error: upstreamFailure() },
        'lab/ok': { reply: 'ok' },
      },
      options: { proposers: ['lab/hung', 'lab/bad', 'lab/ok'], aggregator: 'lab/agg' },
      deadline: Date.now() + 100,
    });
    const result = await mixtureOfAgentsStrategy().doChat(context);
    expect(result.choices[0]!.message.content).toBe('done');
    expect(aborted).toEqual(['lab/hung']);
    expect(trace.partial).toBe(true);
    expect(trace.decision).toMatchObject({ layers: [{ answered: 1, failed: 1, cut: 1 }] });
  });

  it('fails when no proposer of the first layer answers', async () => {
    const failure = upstreamFailure('proposers down');
    const { context, calls } = fakeContext({ targets: { 'lab/a': { error: failure } } });
    await expect(mixtureOfAgentsStrategy().doChat(context)).rejects.toBe(failure);
    expect(calls.filter((call) => call.role === 'aggregator')).toHaveLength(0);
  });
});
