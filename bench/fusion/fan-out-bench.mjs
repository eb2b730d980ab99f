/**
 * Fan-out: n targets answering in parallel after set delays. A strategy that waits for every target
 * (vote with one sample per target and no early stop; mixture-of-agents' proposer layer, with an
 * aggregator that answers at once) should take as long as the slowest target, not longer. The
 * baseline is that slowest target called alone through the same orchestrator, in the same run,
 * interleaved with the fused requests.
 */
import { createFusion } from '@fusionkit/core';
import { createDelayProvider } from './delay-provider.mjs';
import { median, quantile, round } from './statistics.mjs';

const MESSAGES = [{ role: 'user', content: 'What is the answer?' }];

/** Milliseconds of one awaited call. */
async function timed(call) {
  const startedAt = performance.now();
  await call();
  return performance.now() - startedAt;
}

/**
 * @param {{ delays: number[], iterations: number, warmup: number }} options
 */
export async function benchFanOut({ delays, iterations, warmup }) {
  const ids = delays.map((delay) => `t${delay}`);
  const provider = createDelayProvider({
    id: 'bench',
    models: { ...Object.fromEntries(ids.map((id, index) => [id, delays[index]])), aggregator: 0 },
  });
  const targets = ids.map((id) => `bench/${id}`);
  const slowest = targets[delays.indexOf(Math.max(...delays))];
  const fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    pipelines: [
      {
        name: 'fan/vote',
        strategy: 'vote',
        options: { samples: targets.length, earlyStop: false },
        targets,
      },
      {
        name: 'fan/moa',
        strategy: 'mixture-of-agents',
        options: { aggregator: 'bench/aggregator' },
        targets,
      },
    ],
  });
  await fusion.ready;
  const runs = {
    direct: () => fusion.chat({ model: slowest, messages: MESSAGES }),
    vote: () => fusion.chat({ model: 'fan/vote', messages: MESSAGES }),
    moa: () => fusion.chat({ model: 'fan/moa', messages: MESSAGES }),
  };
  const samples = { direct: [], vote: [], moa: [] };
  try {
    for (let index = 0; index < warmup; index++) for (const run of Object.values(runs)) await run();
    // Interleaved, so that drift of the machine touches every series alike.
    for (let index = 0; index < iterations; index++) {
      for (const [name, run] of Object.entries(runs)) samples[name].push(await timed(run));
    }
  } finally {
    await fusion.close({ timeoutMs: 1000 });
  }
  const summary = (series) => ({ p50: round(median(series)), p95: round(quantile(series, 0.95)) });
  const direct = summary(samples.direct);
  const vote = summary(samples.vote);
  const moa = summary(samples.moa);
  return {
    targets: targets.length,
    delaysMs: delays,
    iterations,
    slowestAloneMs: direct,
    voteMs: vote,
    moaMs: moa,
    voteRatio: round(vote.p50 / direct.p50, 3),
    moaRatio: round(moa.p50 / direct.p50, 3),
    raw: samples,
  };
}
