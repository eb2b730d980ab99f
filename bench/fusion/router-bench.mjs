/**
 * Routing decision cost: `doRoute` of each non-semantic router over 8 candidates, in µs per
 * decision, the median of several runs of many decisions each (routers interleaved run by run). The
 * baseline is a router that returns a prebuilt list: what calling any router costs. A second table
 * row gives the live view a pipeline builds for its routers per request (`Pipeline.candidates()`).
 */
import {
  capabilityRouter,
  costRouter,
  createFusion,
  explicitRouter,
  latencyRouter,
  leastBusyRouter,
  thresholdRouter,
  weightedRandomRouter,
} from '@fusionkit/core';
import { createDelayProvider } from './delay-provider.mjs';
import { median, round } from './statistics.mjs';

const CANDIDATES = 8;

function candidates() {
  return Array.from({ length: CANDIDATES }, (_, index) => ({
    model: `lab/model-${index}`,
    provider: 'lab',
    info: {
      id: `model-${index}`,
      context_length: index === 7 ? 2048 : 32_768,
      capabilities: { chat: true, tools: index % 2 === 0, json_schema: index % 3 === 0, vision: index === 1 },
      pricing: { input: 0.1 * (index + 1), output: 0.3 * (CANDIDATES - index) },
    },
    healthy: index !== 5,
    circuit: index === 6 ? 'half-open' : 'closed',
    inFlight: (index * 3) % 5,
    queued: index % 2,
    upstreamQueueDepth: (index * 7) % 4,
    latency: { firstTokenMs: 80 + ((index * 37) % 120), totalMs: 600 + ((index * 53) % 400) },
  }));
}

const REQUEST = {
  model: 'fusion/route',
  messages: [
    { role: 'system', content: 'You are a concise assistant.' },
    {
      role: 'user',
      content: 'Explain the trade-offs of hedged requests against a slow replica in two sentences.',
    },
  ],
  max_tokens: 256,
};

/** µs per call of `decide`, over `iterations` calls. */
function measure(decide, iterations) {
  let sink = 0;
  const startedAt = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) sink += decide().length;
  const elapsedNs = Number(process.hrtime.bigint() - startedAt);
  if (sink < 0) console.log(sink);
  return elapsedNs / 1000 / iterations;
}

/**
 * @param {{ iterations: number, runs: number }} options
 */
export async function benchRouters({ iterations, runs }) {
  const states = candidates();
  const names = states.map((state) => state.model);
  const context = {
    request: REQUEST,
    candidates: states,
    requestId: 'bench',
    signal: new AbortController().signal,
  };
  const prebuilt = names.map((model) => ({ model }));
  const routers = {
    'baseline (returns a prebuilt list)': { doRoute: () => prebuilt },
    explicit: explicitRouter({ targets: names }),
    capability: capabilityRouter(),
    weighted: weightedRandomRouter({
      weights: Object.fromEntries(names.map((name, index) => [name, index + 1])),
    }),
    'least-busy': leastBusyRouter(),
    latency: latencyRouter(),
    cost: costRouter(),
    'threshold (default scorer)': thresholdRouter({ strong: names[0], weak: names[1] }),
  };
  for (const [name, router] of Object.entries(routers)) {
    const first = router.doRoute(context);
    if (typeof first?.then === 'function') throw new Error(`Router '${name}' decided asynchronously.`);
  }

  // The live view a pipeline builds for its router on each request, with 8 registered targets.
  const provider = createDelayProvider({
    id: 'lab',
    models: Object.fromEntries(states.map((state) => [state.info.id, 0])),
  });
  const fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    pipelines: [{ name: 'route/eight', targets: names }],
  });
  await fusion.ready;
  const pipeline = fusion.pipelines.get('route/eight');
  const decisions = {
    ...Object.fromEntries(
      Object.entries(routers).map(([name, router]) => [name, () => router.doRoute(context)]),
    ),
    'live view (Pipeline.candidates(), 8 targets)': () => pipeline.candidates(),
  };

  const perRun = Object.fromEntries(Object.keys(decisions).map((name) => [name, []]));
  for (const decide of Object.values(decisions)) measure(decide, Math.min(iterations, 20_000));
  for (let run = 0; run < runs; run++) {
    for (const [name, decide] of Object.entries(decisions)) perRun[name].push(measure(decide, iterations));
  }
  await fusion.close({ timeoutMs: 100 });
  const baseline = median(perRun['baseline (returns a prebuilt list)']);
  return {
    candidates: CANDIDATES,
    iterations,
    runs,
    routers: Object.entries(perRun).map(([name, series]) => ({
      name,
      usPerDecision: round(median(series), 3),
      overBaselineUs: round(median(series) - baseline, 3),
      runsUs: series.map((value) => round(value, 3)),
    })),
  };
}
