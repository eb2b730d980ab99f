/**
 * Turns the scale bench's repetitions into medians, the markdown table and the PASS/MISS lines.
 * One run per N decided nothing on a shared 2-core machine (the wall ratio at 5,000 streams was
 * 0.96× in one run and 1.71× in the next), so every figure is a median over the repetitions, every
 * ratio the median of the per-pair ratios (proxy run i and fusion run i, measured back to back), and
 * each verdict shows how far its repetitions spread.
 */
import { extent, median } from '../gateway/statistics.mjs';

/** Measures compared with the proxy's, as target ÷ proxy within each pair. */
const RATIO_MEASURES = ['wallMs', 'cpuMicrosPerChunk', 'perStreamBytes'];

const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);
const kb = (bytes) => (bytes / 1024).toFixed(1);
const seconds = (milliseconds) => (milliseconds / 1000).toFixed(2);
const times = (value) => value.toFixed(2);

/** Median over the repetitions of every numeric measure of one target but its errors (summed instead). */
function medianMeasures(measurements) {
  const medians = {};
  for (const [key, value] of Object.entries(measurements[0])) {
    if (typeof value === 'number' && key !== 'errors')
      medians[key] = median(measurements.map((measured) => measured[key]));
  }
  return medians;
}

/** A repeated value: its median, smallest and largest, and each repetition's. */
function spread(values) {
  return { median: median(values), ...extent(values), values };
}

/**
 * What one N's repetitions come to: each target's medians, its errors summed (a failed stream in
 * any repetition is a fault, not noise) and, when the proxy ran, each ratio to the proxy.
 * @param {Array<Record<string, any>>} repetitions `{ [target]: measurement }` per repetition
 * @param {string[]} targetNames
 */
export function summarize(repetitions, targetNames) {
  const medians = {};
  const errors = {};
  const ratios = {};
  for (const name of targetNames) {
    const measurements = repetitions.map((repetition) => repetition[name]);
    medians[name] = medianMeasures(measurements);
    errors[name] = measurements.reduce((total, measured) => total + measured.errors, 0);
    if (!targetNames.includes('proxy')) continue;
    ratios[name] = {};
    for (const key of RATIO_MEASURES) {
      ratios[name][key] = spread(
        repetitions.map((repetition) => repetition[name][key] / repetition.proxy[key]),
      );
    }
  }
  return { medians, errors, ratios };
}

/** `min–max` of one measure over a count's repetitions. */
function rangeText(run, name, measure, format) {
  const { min, max } = extent(run.repetitions.map((repetition) => measure(repetition[name])));
  return `${format(min)}–${format(max)}`;
}

/** The table: medians per N and target, and the spread of the two measures the targets are about. */
export function markdownTable(runs, targetNames) {
  const lines = [
    '| N | target | wall s | ×proxy | CPU µs/chunk | ×proxy | peak open | start MB | peak MB | KB/stream | ×proxy | MB after | after/start | errors | min–max wall s · KB/stream |',
    `|${'---|'.repeat(15)}`,
  ];
  for (const run of runs) {
    for (const name of targetNames) {
      const measured = run.medians[name];
      const ratio = (key) => times(run.ratios[name]?.[key].median ?? Number.NaN);
      const spreadCell = `${rangeText(run, name, (one) => one.wallMs, seconds)} · ${rangeText(run, name, (one) => one.perStreamBytes, kb)}`;
      lines.push(
        `| ${run.count} | ${name} | ${seconds(measured.wallMs)} | ${ratio('wallMs')} | ${measured.cpuMicrosPerChunk.toFixed(1)} | ${ratio('cpuMicrosPerChunk')} | ${Math.round(measured.peakOpen)} | ${mb(measured.startRss)} | ${mb(measured.peakRss)} | ${kb(measured.perStreamBytes)} | ${ratio('perStreamBytes')} | ${mb(measured.afterRss)} | ${times(measured.afterRatio)} | ${run.errors[name]} | ${spreadCell} |`,
      );
    }
  }
  return lines.join('\n');
}

/** `; per pair 0.96–1.71`, flagged when the repetitions fall on both sides of the limit (noise decides). */
function spreadNote(label, { min, max }, limit) {
  const straddles = min <= limit && max > limit;
  return `; ${label} ${times(min)}–${times(max)}${straddles ? ', on both sides of the limit' : ''}`;
}

/** Error messages of every repetition, counts added up. */
function errorMessages(run) {
  const counts = {};
  for (const repetition of run.repetitions) {
    for (const [message, count] of Object.entries(repetition.fusion.errorMessages))
      counts[message] = (counts[message] ?? 0) + count;
  }
  return counts;
}

/**
 * The PASS/MISS lines of fusion serve against the proxy, decided on the medians.
 * @param {{ wallRatio: number, perStreamRatio: number, afterWithin: number }} targets
 */
export function checkLines(runs, targets, settleSeconds) {
  const verdict = (pass) => (pass ? 'PASS' : 'MISS');
  const lines = [];
  for (const run of runs) {
    const ratios = run.ratios.fusion;
    if (!ratios || !run.medians.proxy) continue;
    const fusion = run.medians.fusion;
    const errors = run.errors.fusion;
    const afterLimit = 1 + targets.afterWithin;
    const afterRatios = extent(run.repetitions.map((repetition) => repetition.fusion.afterRatio));
    const errorsPerRun = run.repetitions.map((repetition) => repetition.fusion.errors).join(', ');
    lines.push(
      `${verdict(errors === 0 && ratios.wallMs.median <= targets.wallRatio)} N=${run.count} wall ${times(ratios.wallMs.median)}× proxy (≤ ${targets.wallRatio})${spreadNote('per pair', ratios.wallMs, targets.wallRatio)}`,
      `${verdict(ratios.perStreamBytes.median <= targets.perStreamRatio)} N=${run.count} RSS per open stream ${kb(fusion.perStreamBytes)} KB = ${times(ratios.perStreamBytes.median)}× proxy (≤ ${targets.perStreamRatio})${spreadNote('per pair', ratios.perStreamBytes, targets.perStreamRatio)}`,
      // Below the start is fine (the warm-up's garbage was collected too): the target is giving back.
      `${verdict(fusion.afterRatio <= afterLimit)} N=${run.count} RSS ${settleSeconds} s after = ${times(fusion.afterRatio)}× start (≤ ${afterLimit})${spreadNote('runs', afterRatios, afterLimit)}`,
      `${verdict(errors === 0)} N=${run.count} errors ${errors} (per run ${errorsPerRun})${errors ? ` ${JSON.stringify(errorMessages(run))}` : ''}`,
    );
  }
  return lines.join('\n');
}
