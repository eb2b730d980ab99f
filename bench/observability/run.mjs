/**
 * Observability overhead bench: `npm run bench:observability` (builds first).
 *
 * CPU time per request through `fusion.handle` (no network: the in-memory mock provider), for an
 * orchestrator with no subscribers, with Prometheus metrics, with metrics and OpenTelemetry spans
 * (the SDK's BasicTracerProvider, no exporter), and with metrics, spans and JSON logs (to a sink).
 * Variants run interleaved for `--rounds` rounds; the table shows the median CPU µs per request and
 * the median over rounds of each round's ratio to the bare orchestrator (a round's variants run
 * back to back, so a change of machine load between rounds cancels out of its ratios). CPU time (process.cpuUsage), not wall time, so that a busy
 * machine skews it less; still, compare ratios within one run only.
 *
 * Then the same variants over HTTP (`http-overhead.mjs`): a gateway process per variant (`serve()` of
 * @fusionkit/node, the OpenAI-compatible provider) in front of the gateway bench's mock upstream, and
 * the gateway process's CPU per request. `--http=0` skips that part.
 */
import { createFusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { attachFusionLogger, attachFusionTracing, createFusionMetrics } from '@fusionkit/observability';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { measureHttpOverhead } from './http-overhead.mjs';

const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice(9) ?? 7);
const requests = Number(process.argv.find((arg) => arg.startsWith('--requests='))?.slice(11) ?? 2000);

/** The mock provider of each orchestrator: it records every call, which the bench forgets after each run. */
const mocks = new Map();

function orchestrator(variant) {
  const mock = createMockProvider({ id: 'mock', models: [{ id: 'echo', reply: 'The answer is 42.' }] });
  const fusion = createFusion({ providers: [mock], healthIntervalMs: 0 });
  mocks.set(fusion, mock);
  if (variant !== 'none') createFusionMetrics(fusion, { defaultMetrics: false });
  if (variant === 'metrics+spans' || variant === 'metrics+spans+logs') {
    attachFusionTracing(fusion, { tracerProvider: new BasicTracerProvider() });
  }
  if (variant === 'metrics+spans+logs') {
    attachFusionLogger(fusion, { logger: pino({ level: 'info' }, { write() {} }) });
  }
  return fusion;
}

const body = JSON.stringify({ model: 'mock/echo', messages: [{ role: 'user', content: 'Hi' }] });
const streamBody = JSON.stringify({
  model: 'mock/echo',
  stream: true,
  messages: [{ role: 'user', content: 'Hi' }],
});

async function measure(fusion, payload) {
  const started = process.cpuUsage();
  for (let index = 0; index < requests; index++) {
    const response = await fusion.handle(
      new Request('http://localhost/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
      }),
    );
    await response.text();
  }
  const used = process.cpuUsage(started);
  // Recorded calls hold each request's options (and its signal): kept, they grow the heap run after
  // run, and every collection grows with it, which made subscribers that allocate look dearer.
  mocks.get(fusion).calls.length = 0;
  return (used.user + used.system) / requests;
}

const variants = ['none', 'metrics', 'metrics+spans', 'metrics+spans+logs'];
const fusions = Object.fromEntries(variants.map((variant) => [variant, orchestrator(variant)]));
await Promise.all(Object.values(fusions).map((fusion) => fusion.ready));
const samples = { chat: {}, stream: {} };
for (const [kind, payload] of [
  ['chat', body],
  ['stream', streamBody],
]) {
  for (const variant of variants) await measure(fusions[variant], payload); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      (samples[kind][variant] ??= []).push(await measure(fusions[variant], payload));
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
function table(title, samples) {
  console.log(`\n${title}\n`);
  console.log(`| variant | chat CPU µs/req | ratio | stream CPU µs/req | ratio |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  for (const variant of variants) {
    const chat = median(samples.chat[variant]);
    const stream = median(samples.stream[variant]);
    const ratio = (kind) =>
      median(samples[kind][variant].map((value, round) => value / samples[kind].none[round]));
    console.log(
      `| ${variant} | ${chat.toFixed(1)} | ${ratio('chat').toFixed(2)} | ${stream.toFixed(1)} | ${ratio('stream').toFixed(2)} |`,
    );
  }
}
table('In process: fusion.handle, in-memory provider (CPU of the whole process)', samples);
await Promise.all(Object.values(fusions).map((fusion) => fusion.close()));
if (!process.argv.includes('--http=0')) {
  const http = await measureHttpOverhead({
    variants,
    rounds: Math.min(rounds, 5),
    chats: Math.max(100, Math.round(requests / 4)),
    streams: Math.max(50, Math.round(requests / 8)),
  });
  table(
    'Over HTTP: serve() + OpenAI-compatible provider + mock upstream (CPU of the gateway process only)',
    http,
  );
}
