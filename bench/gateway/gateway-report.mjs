/**
 * Turns the per-round measurements into medians, the markdown table and the PASS/MISS checks of
 * the gateway targets (from the issue):
 *
 * - CPU per request of C (fusion serve) ≤ 2× B's (minimal proxy), chat under load;
 * - CPU per stream of C ≤ 2.5× B's, 64-chunk streams under load;
 * - unloaded p50 latency added by C over direct (A) ≤ 1 ms;
 * - unloaded stream first byte of C ≤ B's + 0.5 ms.
 */
import { median } from './statistics.mjs';

/** Median over rounds of every numeric metric of one scenario × target (undefined if never measured). */
export function medianMetrics(measurements, scenarioKey, targetKey) {
  const rounds = measurements.filter(
    (measurement) =>
      measurement.scenario === scenarioKey && measurement.target === targetKey && !measurement.skipped,
  );
  if (rounds.length === 0) return undefined;
  const metrics = { rounds: rounds.length };
  for (const key of Object.keys(rounds[0])) {
    if (typeof rounds[0][key] === 'number' && key !== 'round')
      metrics[key] = median(rounds.map((round) => round[key]));
  }
  return metrics;
}

/** @returns {Record<string, Record<string, object | undefined>>} scenario → target → medians */
export function allMedians(measurements, scenarios, targetKeys) {
  const medians = {};
  for (const scenario of scenarios) {
    medians[scenario.key] = {};
    for (const targetKey of targetKeys)
      medians[scenario.key][targetKey] = medianMetrics(measurements, scenario.key, targetKey);
  }
  return medians;
}

const fixed = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const signed = (value) => (Number.isFinite(value) ? (value >= 0 ? '+' : '') + value.toFixed(2) : '–');
const times = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
const integer = fixed(0);
const milliseconds = fixed(2);

/** The markdown table: one row per scenario × target. */
export function markdownTable(medians, scenarios, targets) {
  const header =
    '| scenario | target | req/s | p50 ms | p99 ms | CPU µs/req | CPU ×B | first byte ms | last byte ms | Δp50 vs A ms | Δfirst byte vs B ms |';
  const lines = [header, `|${' --- |'.repeat(11)}`];
  for (const scenario of scenarios) {
    const byTarget = medians[scenario.key];
    for (const target of targets) {
      const metrics = byTarget[target.key];
      const cells = [scenario.label, `${target.key} ${target.shortName}`];
      if (!metrics) {
        lines.push(`| ${cells.join(' | ')} | ${Array(9).fill('not run').join(' | ')} |`);
        continue;
      }
      if (scenario.kind === 'load') {
        const proxyCpu = byTarget.B?.cpuUsPerRequest;
        cells.push(
          integer(metrics.reqPerSec),
          milliseconds(metrics.p50Ms),
          milliseconds(metrics.p99Ms),
          integer(metrics.cpuUsPerRequest),
          times(metrics.cpuUsPerRequest / proxyCpu),
          '',
          '',
          '',
          '',
        );
      } else if (scenario.stream) {
        cells.push('', '', '', '', '', milliseconds(metrics.firstByteP50Ms), milliseconds(metrics.p50Ms), '');
        cells.push(signed(metrics.firstByteP50Ms - byTarget.B?.firstByteP50Ms));
      } else {
        cells.push('', milliseconds(metrics.p50Ms), milliseconds(metrics.p99Ms), '', '', '', '');
        cells.push(signed(metrics.p50Ms - byTarget.A?.p50Ms), '');
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

function check(id, description, limitText, value, pass, detail) {
  return { id, description, limit: limitText, value, pass, detail };
}

/**
 * The targets of the issue, for C; `skipReason` when C did not run.
 * @returns {Array<{ id: string, description: string, limit: string, value: number | null, pass: boolean | null, detail: string }>}
 */
export function gatewayChecks(medians, skipReason) {
  const chatLoad = medians['chat-load'];
  const streamLoad = medians['stream-load'];
  const chatUnloaded = medians['chat-unloaded'];
  const streamUnloaded = medians['stream-unloaded'];
  const definitions = [
    [
      'cpu-per-request',
      'CPU per request ≤ 2× minimal proxy (chat, loaded)',
      '≤ 2.00×',
      () => {
        const ratio = chatLoad.C.cpuUsPerRequest / chatLoad.B.cpuUsPerRequest;
        return [
          ratio,
          ratio <= 2,
          `C ${integer(chatLoad.C.cpuUsPerRequest)} µs vs B ${integer(chatLoad.B.cpuUsPerRequest)} µs = ${times(ratio)}`,
        ];
      },
    ],
    [
      'added-latency',
      'unloaded p50 added over direct ≤ 1 ms (chat)',
      '≤ +1.00 ms',
      () => {
        const added = chatUnloaded.C.p50Ms - chatUnloaded.A.p50Ms;
        return [
          added,
          added <= 1,
          `C ${milliseconds(chatUnloaded.C.p50Ms)} ms − A ${milliseconds(chatUnloaded.A.p50Ms)} ms = ${signed(added)} ms`,
        ];
      },
    ],
    [
      'stream-first-byte',
      'stream first byte ≤ minimal proxy + 0.5 ms (unloaded)',
      '≤ +0.50 ms',
      () => {
        const added = streamUnloaded.C.firstByteP50Ms - streamUnloaded.B.firstByteP50Ms;
        return [
          added,
          added <= 0.5,
          `C ${milliseconds(streamUnloaded.C.firstByteP50Ms)} ms − B ${milliseconds(streamUnloaded.B.firstByteP50Ms)} ms = ${signed(added)} ms`,
        ];
      },
    ],
    [
      'cpu-per-stream',
      'CPU per stream ≤ 2.5× minimal proxy (64 chunks, loaded)',
      '≤ 2.50×',
      () => {
        const ratio = streamLoad.C.cpuUsPerRequest / streamLoad.B.cpuUsPerRequest;
        return [
          ratio,
          ratio <= 2.5,
          `C ${integer(streamLoad.C.cpuUsPerRequest)} µs vs B ${integer(streamLoad.B.cpuUsPerRequest)} µs = ${times(ratio)}`,
        ];
      },
    ],
  ];
  return definitions.map(([id, description, limitText, compute]) => {
    if (skipReason) return check(id, description, limitText, null, null, `not measured: ${skipReason}`);
    try {
      const [value, pass, detail] = compute();
      if (!Number.isFinite(value))
        return check(id, description, limitText, null, null, `incomplete data (${detail})`);
      return check(id, description, limitText, value, pass, detail);
    } catch {
      return check(
        id,
        description,
        limitText,
        null,
        null,
        'incomplete data: a target did not finish this scenario',
      );
    }
  });
}

/** The same yardsticks applied to B, to show what the floor itself costs over direct. */
export function proxyFloorSummary(medians) {
  const cpu = medians['chat-load'].B?.cpuUsPerRequest / medians['chat-load'].A?.cpuUsPerRequest;
  const added = medians['chat-unloaded'].B?.p50Ms - medians['chat-unloaded'].A?.p50Ms;
  const firstByte =
    medians['stream-unloaded'].B?.firstByteP50Ms - medians['stream-unloaded'].A?.firstByteP50Ms;
  return `minimal proxy (B) over direct (A): CPU ${times(cpu)} the mock's, p50 ${signed(added)} ms, stream first byte ${signed(firstByte)} ms`;
}

/** Printable lines for the checks. */
export function checkLines(checks) {
  return checks.map((item) => {
    const verdict =
      item.pass === null ? (item.limit === 'info' ? 'info' : 'SKIP') : item.pass ? 'PASS' : 'MISS';
    return `${verdict.padEnd(4)}  ${item.description}: ${item.detail}`;
  });
}
