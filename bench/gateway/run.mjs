/**
 * Gateway overhead bench: `npm run bench:gateway` (builds first) or `node bench/gateway/run.mjs`.
 *
 * Compares, under the same load and interleaved A B C, C B A, ... for `--rounds` rounds:
 *   A. the mock OpenAI-compatible upstream alone (the direct baseline),
 *   B. a minimal `node:http` forwarding proxy in front of it (the floor any gateway pays),
 *   C. `fusion serve` in front of it (skipped with a message until packages/cli is built).
 * Scenarios: chat and 64-chunk streams under load (autocannon, 64 connections), then unloaded
 * chat latency and stream first/last byte (sequential requests on one keep-alive connection).
 * Prints a markdown table of medians over rounds with ratios against B and A, PASS/MISS for the
 * gateway targets, and writes raw rounds, medians and machine info to bench/results/gateway.json.
 *
 * A benchmark, not a test: it exits 0 on MISS; it exits 1 only when something did not run
 * (C built but not answering, or a server failing).
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseOptions } from './bench-options.mjs';
import {
  chatBody,
  directTarget,
  smokeCheck,
  startGatewayTarget,
  startMock,
  startProxyTarget,
} from './bench-targets.mjs';
import {
  allMedians,
  checkLines,
  gatewayChecks,
  markdownTable,
  proxyFloorSummary,
} from './gateway-report.mjs';
import { measureUnderLoad } from './load-run.mjs';
import {
  countInstructions,
  hasValgrind,
  instructionReport,
  observabilityReport,
  observabilityVariants,
  startOtlpSink,
} from './observability-rows.mjs';
import { machineInfo, writeResults } from './results-file.mjs';
import { probeSequential } from './sequential-probe.mjs';
import { killAllNow, killNow, stopAll } from './server-processes.mjs';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function scenarioList(options) {
  return [
    { key: 'chat-load', label: `chat, ${options.connections} conn`, kind: 'load', stream: false },
    {
      key: 'stream-load',
      label: `stream 64 chunks, ${options.connections} conn`,
      kind: 'load',
      stream: true,
    },
    { key: 'chat-unloaded', label: `chat, unloaded ×${options.requests}`, kind: 'sequential', stream: false },
    {
      key: 'stream-unloaded',
      label: `stream, unloaded ×${options.streamRequests}`,
      kind: 'sequential',
      stream: true,
    },
  ];
}

/** Rough wall-clock seconds of a run, for the plan line and the watchdog. */
function plannedSeconds(options, withInstructionCounts) {
  const perTarget =
    2 * (options.warmup + options.duration + 0.5) + options.requests * 0.002 + options.streamRequests * 0.005;
  const targets = options.targets.length + (options.observabilityRows === '1' ? 3 : 0);
  return Math.ceil(options.rounds * targets * perTarget + 5 + (withInstructionCounts ? 1800 : 0));
}

/** Whether the run ends with the observability rows' instruction counts (valgrind installed). */
function countsInstructions(options) {
  return options.observabilityRows === '1' && options.observabilityCallgrind === '1' && hasValgrind();
}

function installCleanup() {
  process.on('exit', killAllNow);
  for (const signalName of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signalName, () => {
      console.error(`\n${signalName}: stopping the bench servers`);
      killAllNow();
      process.exit(128 + os.constants.signals[signalName]);
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.on(event, (error) => {
      console.error(error);
      killAllNow();
      process.exit(1);
    });
  }
}

async function measure(scenario, target, options) {
  const body = chatBody(target.model, scenario.stream);
  if (scenario.kind === 'load') {
    return measureUnderLoad({
      target,
      body,
      connections: options.connections,
      durationSeconds: options.duration,
      warmupSeconds: options.warmup,
    });
  }
  const count = scenario.stream ? options.streamRequests : options.requests;
  return probeSequential({ url: target.url, body, stream: scenario.stream, count });
}

function progressLine(round, options, scenario, target, result) {
  const prefix = `round ${round}/${options.rounds}  ${scenario.label.padEnd(24)} ${target.key}`;
  if (scenario.kind === 'load') {
    const upstream = Number.isFinite(result.upstreamCpuUsPerRequest)
      ? ` (upstream ${result.upstreamCpuUsPerRequest.toFixed(0)})`
      : '';
    const problems = result.non2xx + result.errors + result.timeouts;
    const bypassed =
      result.upstreamRequests < result.completed
        ? `  ⚠ only ${result.upstreamRequests} reached the upstream`
        : '';
    return (
      `${prefix}  ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms` +
      `  CPU ${Number(result.cpuUsPerRequest).toFixed(0)} µs/req${upstream}${problems ? `  ⚠ ${problems} errors/non-2xx` : ''}${bypassed}`
    );
  }
  const firstByte = scenario.stream ? `  first byte ${result.firstByteP50Ms.toFixed(3)} ms` : '';
  const failure = result.failure ? `  ⚠ ${result.failure}` : '';
  return `${prefix}  p50 ${result.p50Ms.toFixed(3)} ms  p99 ${result.p99Ms.toFixed(3)} ms${firstByte}${failure}`;
}

/** What makes a measurement doubtful, in words. */
function measurementWarnings(item) {
  const where = `round ${item.round} ${item.scenario} ${item.target}`;
  const found = [];
  if (item.skipped) found.push(`${where}: ${item.skipped}`);
  if (item.failure) found.push(`${where}: ${item.failure}`);
  if (item.non2xx > 0 || item.errors > 0 || item.timeouts > 0) {
    found.push(`${where}: ${item.non2xx} non-2xx, ${item.errors} errors, ${item.timeouts} timeouts`);
  }
  if (item.upstreamRequests < item.completed) {
    found.push(`${where}: ${item.completed} answered but only ${item.upstreamRequests} reached the upstream`);
  }
  return found;
}

async function startTargets(options, mock) {
  const targets = [];
  const skipped = {};
  let failed = false;
  if (options.targets.includes('A')) targets.push(directTarget(mock));
  if (options.targets.includes('B')) targets.push(await startProxyTarget(mock));
  if (options.targets.includes('C')) {
    const gateway = await startGatewayTarget(mock, {
      repoRoot,
      gatewayBin: options.gatewayBin,
      gatewayNodeFlags: options.gatewayNodeFlags,
      startupTimeoutSeconds: options.startupTimeout,
    });
    if (gateway.skipped) {
      skipped.C = gateway.skipped;
      failed = gateway.failed;
    } else {
      targets.push(gateway);
    }
  }
  if (options.observabilityRows === '1') {
    const sink = await startOtlpSink();
    for (const variant of observabilityVariants(sink.url)) {
      const gateway = await startGatewayTarget(mock, {
        repoRoot,
        gatewayBin: options.gatewayBin,
        gatewayNodeFlags: options.gatewayNodeFlags,
        startupTimeoutSeconds: options.startupTimeout,
        variant,
      });
      if (gateway.skipped) throw new Error(`${variant.key} (${variant.shortName}): ${gateway.skipped}`);
      targets.push(gateway);
    }
    targets.sink = sink;
  }
  for (const target of [...targets]) {
    try {
      target.smoke = await smokeCheck(target);
    } catch (error) {
      if (target.key !== 'C') throw error;
      killNow(target.handle);
      skipped.C = `smoke check failed: ${error.message}`;
      failed = true;
      targets.splice(targets.indexOf(target), 1);
    }
  }
  return { targets, skipped, failed, sink: targets.sink };
}

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    console.log(helpText());
    return 0;
  }
  installCleanup();
  // Decided once: whether valgrind is here is asked of a process.
  const instructionCounts = countsInstructions(options);
  const planned = plannedSeconds(options, instructionCounts);
  const watchdogSeconds = Math.max(2 * planned + 60, 120);
  setTimeout(() => {
    console.error(`bench exceeded ${watchdogSeconds} s: stopping`);
    killAllNow();
    process.exit(2);
  }, watchdogSeconds * 1000).unref();

  const machine = machineInfo(repoRoot);
  const started = new Date();
  console.log(
    `gateway bench: ${options.rounds} round(s) × targets ${options.targets.join(' ')}, ${options.connections} connections, ` +
      `${options.warmup} s warm-up + ${options.duration} s per loaded run, about ${planned} s ` +
      `(${machine.cpus} CPUs, Node ${machine.node})`,
  );

  const mock = await startMock();
  const { targets, skipped, failed, sink } = await startTargets(options, mock);
  for (const [key, reason] of Object.entries(skipped)) console.log(`target ${key} skipped: ${reason}`);
  if (targets.length === 0) throw new Error('no target to measure');

  const scenarios = scenarioList(options);
  const measurements = [];
  let lostGateway;
  for (let round = 1; round <= options.rounds; round++) {
    // Every other round in the opposite order: a target measured last in a round (a warmer machine,
    // the others' garbage still being collected) is measured first in the next.
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const scenario of scenarios) {
      for (const target of order) {
        if (target.handle?.exited) {
          lostGateway ??= `${target.name} exited (${target.handle.exitCode}) during the run:\n${target.handle.output}`;
          measurements.push({ round, scenario: scenario.key, target: target.key, skipped: 'process exited' });
          continue;
        }
        const result = await measure(scenario, target, options);
        console.log(progressLine(round, options, scenario, target, result));
        measurements.push({ round, scenario: scenario.key, target: target.key, ...result });
      }
    }
  }
  const gone = targets.find((target) => target.handle?.exited);
  if (gone)
    lostGateway ??= `${gone.name} exited (${gone.handle.exitCode}) during the run:\n${gone.handle.output}`;

  const allTargets = [
    ...targets,
    ...Object.keys(skipped).map((key) => ({ key, shortName: key === 'C' ? 'fusion serve' : key })),
  ].sort((left, right) => left.key.localeCompare(right.key));
  const medians = allMedians(
    measurements,
    scenarios,
    allTargets.map((target) => target.key),
  );
  const skipReason = skipped.C
    ? skipped.C.split('\n')[0]
    : !options.targets.includes('C')
      ? 'target C not selected'
      : lostGateway;
  const checks = gatewayChecks(medians, skipReason);
  const warnings = measurements.flatMap(measurementWarnings);

  console.log(`\n${markdownTable(medians, scenarios, allTargets)}\n`);
  console.log(`Medians over ${options.rounds} round(s). ${proxyFloorSummary(medians)}.`);
  console.log('Gateway targets (C = fusion serve):');
  for (const line of checkLines(checks)) console.log(`  ${line}`);
  for (const warning of warnings) console.log(`⚠ ${warning}`);
  const observability =
    options.observabilityRows === '1'
      ? observabilityReport(measurements, medians, scenarios, sink.exports())
      : undefined;
  if (observability) {
    console.log(
      '\nObservability overhead (fusion serve, CPU per request against metrics off, from the loaded runs: ±20% between runs of the same code):\n',
    );
    for (const line of observability.lines) console.log(line);
    await sink.close();
  }
  let instructions;
  if (instructionCounts) {
    // After the loaded runs, with their servers stopped: callgrind runs its own gateways.
    await stopAll();
    const results = await countInstructions({ connections: options.connections, onProgress: console.log });
    instructions = instructionReport(results);
    console.log('\nObservability overhead in instructions per request (callgrind; the verdict):\n');
    for (const line of instructions.lines) console.log(line);
  } else if (options.observabilityRows === '1') {
    console.log('\n(valgrind not installed or --observability-callgrind 0: no instruction counts)');
  }

  const outPath = resolve(repoRoot, options.out);
  writeResults(outPath, {
    benchmark: 'gateway',
    date: started.toISOString(),
    finished: new Date().toISOString(),
    machine,
    options,
    targets: Object.fromEntries([
      ...targets.map((target) => [
        target.key,
        {
          name: target.name,
          url: target.url,
          model: target.model,
          cpuSource: target.cpuSource,
          smoke: target.smoke,
        },
      ]),
      ...Object.entries(skipped).map(([key, reason]) => [key, { skipped: reason }]),
    ]),
    scenarios,
    rounds: Array.from({ length: options.rounds }, (_unused, index) => ({
      round: index + 1,
      measurements: measurements.filter((item) => item.round === index + 1),
    })),
    medians,
    checks,
    warnings,
    ...(observability ? { observability: observability.ratios } : {}),
    ...(instructions ? { observabilityInstructions: instructions.ratios } : {}),
  });
  console.log(`\nwrote ${outPath}`);
  await stopAll();
  return failed || lostGateway ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error) => {
    console.error(error instanceof Error ? error.message : error);
    await stopAll();
    process.exitCode = 1;
  },
);
