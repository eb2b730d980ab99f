/**
 * Hedged requests against replicas that are slow 10% of the time (20 ± 5 ms usually, 500 ms in 10%,
 * drawn from a seeded hash of the request number and the replica, so the same requests are slow for
 * the same replica in every series). Without hedging (`single`) the p99 is a slow answer; with
 * `race` and a hedge delay around the p90 (the fast answers' 25 ms, plus a few ms of slack: the
 * measured p90 sits right at the edge of the slow tail, so one stray slow answer would move it), a
 * second replica is asked only when the first is slow. Calls per request count every call started, aborted losers included.
 */
import { createFusion } from '@fusionkit/core';
import { createDelayProvider } from './delay-provider.mjs';
import { hashUniform, quantile, round } from './statistics.mjs';

const REPLICAS = ['r1', 'r2', 'r3'];

/** The delay of request `index` on a replica: fixed by the seed. */
function replicaDelay(seed, index, replica) {
  const slow = hashUniform(seed, index, replica, 1) < 0.1;
  return slow ? 500 : 15 + 10 * hashUniform(seed, index, replica, 2);
}

/** Runs `count` requests, `concurrency` at a time; returns each one's latency in ms. */
async function load(count, concurrency, request) {
  const latencies = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const startedAt = performance.now();
      await request(index);
      latencies[index] = performance.now() - startedAt;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

/**
 * @param {{ requests: number, concurrency: number, seed: number, hedgeDelayMs: number }} options
 */
export async function benchHedging({ requests, concurrency, seed, hedgeDelayMs }) {
  const provider = createDelayProvider({
    id: 'hedge',
    models: Object.fromEntries(
      REPLICAS.map((replica, replicaIndex) => [
        replica,
        (request) =>
          replicaDelay(seed, Number(request.messages[0].content.slice('request '.length)), replicaIndex),
      ]),
    ),
  });
  const fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    pipelines: [{ name: 'hedge/single', strategy: 'single', targets: ['hedge/r1'] }],
  });
  await fusion.ready;
  const run = async (model) => {
    // Warm-up, not measured: adaptive hedging needs observations before its quantile counts.
    await load(200, concurrency, (index) =>
      fusion.chat({ model, messages: [{ role: 'user', content: `request ${requests + index}` }] }),
    );
    provider.resetCalls();
    const latencies = await load(requests, concurrency, (index) =>
      fusion.chat({ model, messages: [{ role: 'user', content: `request ${index}` }] }),
    );
    const calls = provider.totalCalls();
    return {
      p50: round(quantile(latencies, 0.5)),
      p90: round(quantile(latencies, 0.9)),
      p95: round(quantile(latencies, 0.95)),
      p99: round(quantile(latencies, 0.99)),
      callsPerRequest: round(calls / requests, 3),
    };
  };
  try {
    const single = await run('hedge/single');
    const variants = [
      {
        name: 'hedge/race-3',
        label: `race, 3 replicas, hedgeDelayMs ${hedgeDelayMs} (≈ p90)`,
        replicas: 3,
        options: { hedgeDelayMs },
      },
      {
        name: 'hedge/race-2',
        label: `race, 2 replicas, hedgeDelayMs ${hedgeDelayMs} (≈ p90)`,
        replicas: 2,
        options: { hedgeDelayMs },
      },
      {
        name: 'hedge/race-adaptive',
        label: 'race, 3 replicas, observed p90 (quantile 0.9)',
        replicas: 3,
        options: { quantile: 0.9 },
      },
    ];
    const results = [];
    for (const variant of variants) {
      fusion.registerPipeline({
        name: variant.name,
        strategy: 'race',
        options: variant.options,
        targets: REPLICAS.slice(0, variant.replicas).map((replica) => `hedge/${replica}`),
      });
      results.push({ ...variant, ...(await run(variant.name)) });
    }
    return { requests, concurrency, seed, hedgeDelayMs, single, hedged: results };
  } finally {
    await fusion.close({ timeoutMs: 1000 });
  }
}
