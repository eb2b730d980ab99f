/**
 * Opt-in rows of the gateway bench (`--observability-rows 1`): `fusion serve` three more times, with
 * metrics off (`FUSION_METRICS=0`), with metrics (the default), and with metrics and OpenTelemetry
 * tracing (`FUSION_TRACING=1`, spans batched over OTLP/HTTP to a sink in this process that answers
 * 200), each measured like target C. The report is the CPU per request of each against metrics off,
 * as the median over rounds of each round's ratio (the target: ≤ 1.10×).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extent, median } from './statistics.mjs';

/** The most CPU per request that metrics and tracing may add. */
export const OBSERVABILITY_TARGET = 1.1;

/**
 * An OTLP/HTTP collector stand-in: reads each export and answers 200 with an empty export response
 * in the request's encoding (protobuf or JSON). It counts exports, and the spans of JSON exports (a
 * dropped span would make tracing look cheaper than it is).
 */
export async function startOtlpSink() {
  let exports = 0;
  let spans = 0;
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      exports++;
      if (request.headers['content-type'] === 'application/json') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const resource of body.resourceSpans) {
          for (const scope of resource.scopeSpans) spans += scope.spans.length;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    exports: () => exports,
    spans: () => spans,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The three variants, as `startGatewayTarget` takes them. */
export function observabilityVariants(sinkUrl) {
  // State in memory: the three servers run beside target C in the same folder.
  const common = { FUSION_STATE: 'memory' };
  return [
    { key: 'O0', shortName: 'metrics off', env: { ...common, FUSION_METRICS: '0', FUSION_TRACING: '0' } },
    { key: 'O1', shortName: 'metrics on', env: { ...common, FUSION_METRICS: '1', FUSION_TRACING: '0' } },
    {
      key: 'O2',
      shortName: 'metrics + tracing',
      env: {
        ...common,
        FUSION_METRICS: '1',
        FUSION_TRACING: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
        OTEL_SERVICE_NAME: 'fusion-bench',
      },
    },
  ];
}

/** PASS or MISS of a ratio against {@link OBSERVABILITY_TARGET}, with the target. */
function verdictOf(ratio) {
  return `${ratio <= OBSERVABILITY_TARGET ? 'PASS' : 'MISS'} (≤ ${OBSERVABILITY_TARGET.toFixed(2)}×)`;
}

/** Median over rounds of each round's CPU-per-request ratio of `key` to `O0` in one scenario, and their extent. */
function ratioToBase(measurements, scenarioKey, key) {
  const ratios = [];
  for (const item of measurements) {
    if (item.scenario !== scenarioKey || item.target !== key || item.skipped) continue;
    const base = measurements.find(
      (other) => other.scenario === scenarioKey && other.target === 'O0' && other.round === item.round,
    );
    if (base && !base.skipped && base.cpuUsPerRequest > 0)
      ratios.push(item.cpuUsPerRequest / base.cpuUsPerRequest);
  }
  return { ratio: ratios.length > 0 ? median(ratios) : Number.NaN, ...extent(ratios) };
}

/**
 * The observability table (loaded scenarios only) and its checks.
 * @returns {{ lines: string[], ratios: Record<string, Record<string, number>> }}
 */
export function observabilityReport(measurements, medians, scenarios, exportsSeen) {
  const lines = [
    '| scenario | O0 metrics off CPU µs/req | O1 metrics on | O1 ×O0 (rounds) | O2 metrics + tracing | O2 ×O0 (rounds) | target |',
    `|${' --- |'.repeat(7)}`,
  ];
  const ratios = {};
  for (const scenario of scenarios.filter((entry) => entry.kind === 'load')) {
    const byTarget = medians[scenario.key];
    const cpu = (key) => byTarget[key]?.cpuUsPerRequest;
    const metrics = ratioToBase(measurements, scenario.key, 'O1');
    const tracing = ratioToBase(measurements, scenario.key, 'O2');
    const tracingRatio = tracing.ratio;
    ratios[scenario.key] = { metrics: metrics.ratio, metricsAndTracing: tracingRatio };
    const show = (value) => (Number.isFinite(value) ? value.toFixed(0) : '–');
    const times = ({ ratio, min, max }) =>
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}× (${min.toFixed(2)}–${max.toFixed(2)})` : '–';
    const verdict = Number.isFinite(tracingRatio) ? verdictOf(tracingRatio) : 'not run';
    lines.push(
      `| ${scenario.label} | ${show(cpu('O0'))} | ${show(cpu('O1'))} | ${times(metrics)} | ${show(cpu('O2'))} | ${times(tracing)} | ${verdict} |`,
    );
  }
  lines.push(
    '',
    `Ratios are medians over rounds of each round's ratio, with their lowest and highest; the OTLP sink received ${exportsSeen} export(s) from O2.`,
  );
  return { lines, ratios };
}

/** Whether valgrind (callgrind) can be run here. */
export function hasValgrind() {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Instructions per request of `fusion serve` with metrics off, on, and with tracing, counted by
 * callgrind (`bench/observability/callgrind.mjs`) for chats and for 64-chunk streams, `connections`
 * at a time: what the loaded rows above measure, without their noise (a busy second core, the load
 * generator, the order of targets move those by ±20% between runs of the same code; instruction
 * counts repeat within a few percent). Each scenario's counts are the median of `segments`
 * stretches, each closed by a full collection that is counted with it.
 */
export async function countInstructions({ connections, onProgress = () => {} }) {
  const scenarios = [
    { key: 'chat-load', label: 'chat', args: ['--warmup=1000', '--requests=1000', '--segments=3'] },
    {
      key: 'stream-load',
      label: 'stream 64 chunks',
      args: ['--stream', '--warmup=300', '--requests=300', '--segments=3'],
    },
  ];
  const script = fileURLToPath(new URL('../observability/callgrind.mjs', import.meta.url));
  const results = [];
  for (const scenario of scenarios) {
    const dir = mkdtempSync(join(tmpdir(), 'fusion-callgrind-'));
    try {
      const jsonPath = join(dir, 'rows.json');
      onProgress(`callgrind: ${scenario.label}, metrics off / on / + tracing, ${connections} at a time…`);
      const child = spawn(
        process.execPath,
        [
          script,
          ...scenario.args,
          `--connections=${connections}`,
          `--out=${join(dir, 'dumps')}`,
          `--json=${jsonPath}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`callgrind run for ${scenario.label} failed (${code}):\n${stderr}`);
      const { rows } = JSON.parse(readFileSync(jsonPath, 'utf8'));
      results.push({ ...scenario, rows });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}

/** The table of {@link countInstructions}'s results, and the verdict on each scenario. */
export function instructionReport(results) {
  const lines = [
    '| scenario | off instr/req | metrics on | ×off (stretches) | metrics + tracing | ×off (stretches) | target |',
    `|${' --- |'.repeat(7)}`,
  ];
  const ratios = {};
  for (const { key, label, rows } of results) {
    const row = (variant) => rows.find((entry) => entry.variant === variant);
    // Without the compiler's work: a few thousand requests under callgrind still compile (about half
    // their instructions), which would dilute the ratios; a server under load has long stopped.
    const total = (entry) => median(entry.steadyStretches);
    const base = row('off');
    const cell = (variant) => {
      const entry = row(variant);
      const count = total(entry);
      const ratio = count / total(base);
      const spread = extent(entry.steadyStretches.map((value, index) => value / base.steadyStretches[index]));
      return {
        count,
        ratio,
        text: `${ratio.toFixed(3)}× (${spread.min.toFixed(2)}–${spread.max.toFixed(2)})`,
      };
    };
    const metrics = cell('metrics');
    const tracing = cell('tracing');
    ratios[key] = { metrics: metrics.ratio, metricsAndTracing: tracing.ratio };
    lines.push(
      `| ${label} | ${total(base).toFixed(0)} | ${metrics.count.toFixed(0)} | ${metrics.text} | ${tracing.count.toFixed(0)} | ${tracing.text} | ${verdictOf(tracing.ratio)} |`,
    );
  }
  lines.push(
    '',
    'Instructions per request under callgrind (all threads, V8 single-threaded), the closing full collection included and the optimizing compiler left out (still busy after a few thousand requests under callgrind, done in a loaded server); stretches: each stretch against the same stretch of metrics off.',
  );
  return { lines, ratios };
}
