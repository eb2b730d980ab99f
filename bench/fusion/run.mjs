/**
 * Fusion bench: `npm run bench:fusion` (builds first) or `node bench/fusion/run.mjs [--quick]`.
 *
 * In-process (no sockets, no child processes), against the built `@fusionkit/core` with providers
 * whose models answer after set delays:
 *   1. routing decision cost of each non-semantic router over 8 candidates, µs per decision;
 *   2. fan-out of 3 and 5 parallel targets: fused latency ÷ the slowest target alone (vote, MoA);
 *   3. hedging against replicas slow 10% of the time: p99 and calls per request, race vs single.
 * Prints markdown tables with PASS/MISS per target and writes bench/results/fusion.json.
 *
 * A benchmark, not a test: it exits 0 on a MISS, and 1 only when something failed to run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchFanOut } from './fan-out-bench.mjs';
import { benchHedging } from './hedge-bench.mjs';
import { benchRouters } from './router-bench.mjs';

const RESULTS = fileURLToPath(new URL('../results/fusion.json', import.meta.url));
const TARGETS = { fanOutRatio: 1.05, hedgeP99Gain: 3, hedgeCallRatio: 1.15, routerUs: 20 };
/** The whole run is bounded: a stuck run is stopped rather than left hanging. */
const WATCHDOG_MS = 10 * 60_000;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '42' },
    'hedge-delay': { type: 'string', default: '30' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'node bench/fusion/run.mjs [--quick] [--seed N]\n  --quick  fewer iterations (a look, not a result)',
  );
  process.exit(0);
}
const quick = values.quick;
const seed = Number(values.seed);

const watchdog = setTimeout(() => {
  console.error(`bench:fusion did not finish within ${WATCHDOG_MS / 1000} s; stopping.`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(error);
    process.exit(1);
  });
}

const verdict = (pass) => (pass ? 'PASS' : 'MISS');

console.log(`# Fusion bench${quick ? ' (--quick)' : ''}\n`);
console.log(
  `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()}\n`,
);

// 1. Routers, first, while the process is quiet.
const routers = await benchRouters({ iterations: quick ? 20_000 : 200_000, runs: quick ? 3 : 7 });
console.log('## Routing decision cost (8 candidates)\n');
console.log('| router | µs / decision (median of runs) | over baseline µs | target | result |');
console.log('| --- | ---: | ---: | ---: | --- |');
const routerChecks = [];
for (const router of routers.routers) {
  const checked = !router.name.startsWith('baseline') && !router.name.startsWith('live view');
  const pass = router.usPerDecision <= TARGETS.routerUs;
  if (checked) routerChecks.push({ name: `router ${router.name}`, value: router.usPerDecision, pass });
  console.log(
    `| ${router.name} | ${router.usPerDecision.toFixed(3)} | ${router.overBaselineUs.toFixed(3)} | ${checked ? `≤ ${TARGETS.routerUs}` : ''} | ${checked ? verdict(pass) : ''} |`,
  );
}

// 2. Fan-out.
const fanOutConfigs = [
  [50, 100, 200],
  [50, 75, 100, 150, 200],
];
const fanOut = [];
for (const delays of fanOutConfigs) {
  fanOut.push(await benchFanOut({ delays, iterations: quick ? 8 : 30, warmup: quick ? 1 : 3 }));
}
console.log('\n## Fan-out: fused latency ÷ slowest target alone (p50)\n');
console.log(
  '| targets (delays, ms) | slowest alone p50 ms | vote p50 ms | vote ratio | MoA p50 ms | MoA ratio | target | result |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const fanOutChecks = [];
for (const result of fanOut) {
  const pass = result.voteRatio <= TARGETS.fanOutRatio && result.moaRatio <= TARGETS.fanOutRatio;
  fanOutChecks.push({
    name: `fan-out ${result.targets}`,
    value: Math.max(result.voteRatio, result.moaRatio),
    pass,
  });
  console.log(
    `| ${result.targets} (${result.delaysMs.join('/')}) | ${result.slowestAloneMs.p50} | ${result.voteMs.p50} | ${result.voteRatio.toFixed(3)} | ${result.moaMs.p50} | ${result.moaRatio.toFixed(3)} | ≤ ${TARGETS.fanOutRatio} | ${verdict(pass)} |`,
  );
}
console.log(
  '\nvote: one sample per target, earlyStop false; MoA: one proposer layer of every target, then an aggregator that answers at once.',
);

// 3. Hedging.
const hedging = await benchHedging({
  requests: quick ? 400 : 2000,
  concurrency: 16,
  seed,
  hedgeDelayMs: Number(values['hedge-delay']),
});
console.log(
  `\n## Hedging: replicas slow 10% of the time (20 ± 5 ms, else 500 ms), ${hedging.requests} requests, ${hedging.concurrency} at a time, seed ${seed}\n`,
);
console.log(
  '| strategy | p50 ms | p95 ms | p99 ms | calls / request | p99 gain | call ratio | target | result |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
const { single } = hedging;
console.log(
  `| single (no hedge, baseline; p90 ${single.p90} ms) | ${single.p50} | ${single.p95} | ${single.p99} | ${single.callsPerRequest.toFixed(3)} | 1.00 | 1.000 | | |`,
);
const hedgeChecks = [];
for (const [index, result] of hedging.hedged.entries()) {
  result.p99Gain = single.p99 / result.p99;
  result.callRatio = result.callsPerRequest / single.callsPerRequest;
  const checked = index === 0;
  const pass = result.p99Gain >= TARGETS.hedgeP99Gain && result.callRatio <= TARGETS.hedgeCallRatio;
  if (checked)
    hedgeChecks.push({ name: 'hedging p99 gain / call ratio', value: round2(result.p99Gain), pass });
  console.log(
    `| ${result.label} | ${result.p50} | ${result.p95} | ${result.p99} | ${result.callsPerRequest.toFixed(3)} | ${result.p99Gain.toFixed(2)} | ${result.callRatio.toFixed(3)} | ${checked ? `≥ ${TARGETS.hedgeP99Gain}× at ≤ ${TARGETS.hedgeCallRatio}×` : '(informational)'} | ${checked ? verdict(pass) : ''} |`,
  );
}
console.log(
  '\nWith 2 replicas both are slow for 1% of requests, exactly at the p99: that row lands either side of the target by chance.',
);

const checks = [...routerChecks, ...fanOutChecks, ...hedgeChecks];
console.log('\n## Targets\n');
for (const check of checks) console.log(`${verdict(check.pass)}  ${check.name}: ${check.value}`);

mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(
  RESULTS,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      quick,
      machine: {
        node: process.version,
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        platform: os.platform(),
      },
      targets: TARGETS,
      routers,
      fanOut: fanOut.map(({ raw, ...rest }) => ({ ...rest, rawMs: raw })),
      hedging,
      checks,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${RESULTS}`);

function round2(value) {
  return Math.round(value * 100) / 100;
}
