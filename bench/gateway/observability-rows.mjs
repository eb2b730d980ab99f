/**
 * Opt-in rows of the gateway bench (`--observability-rows 1`): `fusion serve` three more times, with
 * metrics off (`FUSION_METRICS=0`), with metrics (the default), and with metrics and OpenTelemetry
 * tracing (`FUSION_TRACING=1`, spans batched over OTLP/HTTP to a sink in this process that answers
 * 200), each measured like target C. The report is the CPU per request of each against metrics off,
 * as the median over rounds of each round's ratio (the target: ≤ 1.10×).
 */
import { createServer } from 'node:http';
import { median } from './statistics.mjs';

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

/** Median over rounds of each round's CPU-per-request ratio of `key` to `O0` in one scenario. */
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
  return ratios.length > 0 ? median(ratios) : Number.NaN;
}

/**
 * The observability table (loaded scenarios only) and its checks.
 * @returns {{ lines: string[], ratios: Record<string, Record<string, number>> }}
 */
export function observabilityReport(measurements, medians, scenarios, exportsSeen) {
  const lines = [
    '| scenario | O0 metrics off CPU µs/req | O1 metrics on | O1 ×O0 | O2 metrics + tracing | O2 ×O0 | target |',
    `|${' --- |'.repeat(7)}`,
  ];
  const ratios = {};
  for (const scenario of scenarios.filter((entry) => entry.kind === 'load')) {
    const byTarget = medians[scenario.key];
    const cpu = (key) => byTarget[key]?.cpuUsPerRequest;
    const metricsRatio = ratioToBase(measurements, scenario.key, 'O1');
    const tracingRatio = ratioToBase(measurements, scenario.key, 'O2');
    ratios[scenario.key] = { metrics: metricsRatio, metricsAndTracing: tracingRatio };
    const show = (value) => (Number.isFinite(value) ? value.toFixed(0) : '–');
    const times = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
    const verdict = Number.isFinite(tracingRatio)
      ? `${tracingRatio <= OBSERVABILITY_TARGET ? 'PASS' : 'MISS'} (≤ ${OBSERVABILITY_TARGET.toFixed(2)}×)`
      : 'not run';
    lines.push(
      `| ${scenario.label} | ${show(cpu('O0'))} | ${show(cpu('O1'))} | ${times(metricsRatio)} | ${show(cpu('O2'))} | ${times(tracingRatio)} | ${verdict} |`,
    );
  }
  lines.push(
    '',
    `Ratios are medians over rounds of each round's ratio; the OTLP sink received ${exportsSeen} export(s) from O2.`,
  );
  return { lines, ratios };
}
