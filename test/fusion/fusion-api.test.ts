/**
 * `/api/fusion/*` and the accounting of fused answers: an inline strategy returns the answer with the
 * full trace, the trace id resolves, and the usage of a fused answer is the sum of every call it made
 * (as the upstream itself counted them), streamed answers included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FusionStack, startFusionStack, USER_MESSAGE } from './fusion-stack.js';

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

interface TraceCall {
  target: string;
  role?: string;
  startedAt: number;
  totalMs?: number;
  firstTokenMs?: number;
  retries: number;
  outcome: string;
  usage?: Usage;
  output?: string;
}

interface Trace {
  id: string;
  requestId: string;
  strategy: string;
  calls: TraceCall[];
  decision?: Record<string, unknown>;
  usage?: Usage;
}

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      models: {
        wobbly: { fault: 'status-500', times: 1 },
        other: { reply: 'It is 42, I think.' },
        aggregator: { reply: 'Combined: the answer is 42.' },
      },
    },
    fusion: {
      resilience: { retry: { maxRetries: 2, baseDelayMs: 10 } },
      pipelines: [
        {
          name: 'fusion/moa',
          description: 'Two proposers and an aggregator.',
          strategy: 'mixture-of-agents',
          options: { aggregator: 'faults/aggregator' },
          targets: ['faults/steady', 'faults/other'],
        },
      ],
    },
  });
});
afterAll(() => stack?.close());

/** The sum of the usage the upstream answered for one client request (failed attempts have none). */
function upstreamUsage(requestId: string): Usage {
  const sum = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const answered = stack.upstream
    .chatRequests()
    .filter((entry) => entry.headers['x-request-id'] === requestId && entry.usage !== undefined);
  expect(answered.length).toBeGreaterThan(1);
  for (const entry of answered) {
    sum.prompt_tokens += entry.usage!.prompt_tokens;
    sum.completion_tokens += entry.usage!.completion_tokens;
    sum.total_tokens += entry.usage!.total_tokens;
  }
  return sum;
}

function sumOfCalls(calls: readonly TraceCall[]): Usage {
  const sum = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const call of calls) {
    sum.prompt_tokens += call.usage?.prompt_tokens ?? 0;
    sum.completion_tokens += call.usage?.completion_tokens ?? 0;
    sum.total_tokens += call.usage?.total_tokens ?? 0;
  }
  return sum;
}

describe('POST /api/fusion/chat', () => {
  it('runs an inline strategy and returns the answer with the trace of every call', async () => {
    const sentAt = Date.now();
    const response = await fetch(`${stack.url}/api/fusion/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'inline-1' },
      body: JSON.stringify({
        strategy: { name: 'vote', options: { samples: 3, earlyStop: false } },
        targets: ['faults/steady', 'faults/wobbly', 'faults/steady'],
        messages: [USER_MESSAGE],
      }),
    });
    expect(response.status).toBe(200);
    const answeredAt = Date.now();
    const { answer, trace } = (await response.json()) as {
      answer: { choices: { message: { content: string } }[]; usage: Usage; fusion: { trace_id: string } };
      trace: Trace;
    };
    expect(answer.choices[0]!.message.content).toBe('The answer is 42.');
    expect(response.headers.get('x-fusion-trace-id')).toBe(trace.id);
    expect(answer.fusion.trace_id).toBe(trace.id);
    expect(trace).toMatchObject({ requestId: 'inline-1', strategy: 'vote' });
    expect(trace.decision).toMatchObject({ strategy: 'vote', samples: 3, answered: 3 });

    expect(trace.calls).toHaveLength(3);
    for (const call of trace.calls) {
      expect(call).toMatchObject({ role: 'sample', outcome: 'ok', output: 'The answer is 42.' });
      // Each call started and ended within the request, so its duration fits in it.
      expect(call.startedAt).toBeGreaterThanOrEqual(sentAt);
      expect(call.startedAt + call.totalMs!).toBeLessThanOrEqual(answeredAt);
      expect(call.usage?.total_tokens).toBeGreaterThan(0);
    }
    const wobbly = trace.calls.find((call) => call.target === 'faults/wobbly');
    expect(wobbly?.retries).toBe(1);
    expect(trace.calls.filter((call) => call.target === 'faults/steady').map((call) => call.retries)).toEqual(
      [0, 0],
    );

    // The usage is the sum of the calls, and of what the upstream answered (the failed attempt had none).
    expect(answer.usage).toEqual(sumOfCalls(trace.calls));
    expect(answer.usage).toEqual(upstreamUsage('inline-1'));
  });

  it('resolves the trace by id afterwards', async () => {
    const response = await fetch(`${stack.url}/api/fusion/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ strategy: 'fallback', targets: ['faults/steady'], messages: [USER_MESSAGE] }),
    });
    const { trace } = (await response.json()) as { trace: Trace };
    const stored = await fetch(`${stack.url}/api/fusion/traces/${trace.id}`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual(trace);
    expect((await fetch(`${stack.url}/api/fusion/traces/no-such-trace`)).status).toBe(404);
  });

  it('answers 400 for an unknown strategy or no targets', async () => {
    const post = (body: unknown) =>
      fetch(`${stack.url}/api/fusion/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const unknown = await post({
      strategy: 'telepathy',
      targets: ['faults/steady'],
      messages: [USER_MESSAGE],
    });
    expect(unknown.status).toBe(400);
    const empty = await post({ strategy: 'vote', targets: [], messages: [USER_MESSAGE] });
    expect(empty.status).toBe(400);
  });
});

describe('GET /api/fusion/strategies and /api/fusion/pipelines', () => {
  it('describe the built-in strategies and the served pipelines', async () => {
    const strategies = (await (await fetch(`${stack.url}/api/fusion/strategies`)).json()) as {
      data: { name: string; description: string }[];
    };
    expect(strategies.data.map((strategy) => strategy.name)).toEqual(
      expect.arrayContaining(['single', 'fallback', 'race', 'vote', 'best-of-n', 'mixture-of-agents']),
    );
    const pipelines = (await (await fetch(`${stack.url}/api/fusion/pipelines`)).json()) as {
      data: { name: string; strategy: string }[];
    };
    expect(pipelines.data).toContainEqual(
      expect.objectContaining({ name: 'fusion/moa', strategy: 'mixture-of-agents' }),
    );
  });
});

describe('usage of a fused answer', () => {
  it('is the sum of every call, non-streamed', async () => {
    const answer = await stack.client.chat.completions.create(
      { model: 'fusion/moa', messages: [USER_MESSAGE] },
      { headers: { 'x-request-id': 'moa-json' } },
    );
    expect(answer.choices[0]!.message.content).toBe('Combined: the answer is 42.');
    // Two proposers and the aggregator.
    expect(
      stack.upstream.chatRequests().filter((entry) => entry.headers['x-request-id'] === 'moa-json'),
    ).toHaveLength(3);
    expect(answer.usage).toEqual(upstreamUsage('moa-json'));
  });

  it('is the sum of every call, streamed (stream_options.include_usage)', async () => {
    const response = await stack.client.chat.completions
      .create(
        {
          model: 'fusion/moa',
          messages: [USER_MESSAGE],
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-request-id': 'moa-stream' } },
      )
      .withResponse();
    let text = '';
    let usage: Usage | null | undefined;
    for await (const chunk of response.data) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Combined: the answer is 42.');
    const expected = upstreamUsage('moa-stream');
    expect(usage).toEqual(expected);
    // The aggregator streamed; its usage (from the upstream's last chunk) is part of the sum.
    const traceId = response.response.headers.get('x-fusion-trace-id');
    const trace = (await (await fetch(`${stack.url}/api/fusion/traces/${traceId}`)).json()) as Trace;
    const aggregator = trace.calls.find((call) => call.role === 'aggregator');
    expect(aggregator?.usage?.total_tokens).toBeGreaterThan(0);
    // The first token came before the end, and the aggregator started after every proposer ended.
    expect(aggregator?.firstTokenMs).toBeLessThanOrEqual(aggregator!.totalMs!);
    for (const proposer of trace.calls.filter((call) => call.role === 'proposer')) {
      expect(proposer.startedAt + proposer.totalMs!).toBeLessThanOrEqual(aggregator!.startedAt);
    }
    expect(trace.usage).toEqual(expected);
  });
});
