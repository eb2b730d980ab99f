/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws on
 * any line a Prometheus server would refuse or misread, and checks what each metric type promises
 * (counters never negative; histograms with `le` buckets that only grow, up to `+Inf` = `_count`).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** A sample value as Prometheus reads it (Go's `ParseFloat`: `NaN` and `Inf` in any case). */
function parseValue(text: string, line: string): number {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`Bad value in: ${line}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = LABEL.exec(rest);
    if (!match) throw new Error(`Bad labels in: ${line}`);
    const [whole, name, value] = match as unknown as [string, string, string];
    if (name in labels) throw new Error(`Label ${name} twice in: ${line}`);
    labels[name] = value.replace(/\\(["\\n])/g, (_all, escaped: string) =>
      escaped === 'n' ? '\n' : escaped,
    );
    rest = rest.slice(whole.length);
    if (rest.startsWith(',')) rest = rest.slice(1);
    else if (rest.length > 0) throw new Error(`Bad labels in: ${line}`);
  }
  return labels;
}

function familyOf(sampleName: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || family.type === 'summary')) return family;
  }
  return undefined;
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    if (!series.has(key)) series.set(key, []);
    series.get(key)!.push(sample);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((sample) => sample.name.endsWith('_bucket'));
    const count = samples.find((sample) => sample.name.endsWith('_count'));
    if (!count || !samples.some((sample) => sample.name.endsWith('_sum'))) {
      throw new Error(`${family.name}${key} lacks _sum or _count`);
    }
    let previous = 0;
    for (const bucket of buckets) {
      if (bucket.labels.le === undefined) throw new Error(`${family.name} bucket without le`);
      if (bucket.value < previous) throw new Error(`${family.name}${key} buckets shrink`);
      previous = bucket.value;
    }
    const infinite = buckets.find((bucket) => bucket.labels.le === '+Inf');
    if (!infinite || infinite.value !== count.value)
      throw new Error(`${family.name}${key}: +Inf bucket != _count`);
  }
}

/** Reads an exposition; throws on the first violation. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // a plain comment
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`Bad metric name in: ${line}`);
      let family = families.get(name);
      if (!family) families.set(name, (family = { name, type: 'untyped', help: '', samples: [] }));
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`Bad type in: ${line}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        family.type = rest as MetricFamily['type'];
      } else {
        family.help = rest;
      }
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!match) throw new Error(`Bad sample line: ${line}`);
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
    const family = familyOf(name, families);
    if (!family) throw new Error(`Sample of an undeclared metric: ${line}`);
    const value = parseValue(valueText, line);
    if (family.type === 'counter' && !(value >= 0)) throw new Error(`Negative counter: ${line}`);
    family.samples.push({ name, labels: parseLabels(labelText ?? '', line), value });
  }
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

/** The sum of the samples of `name` whose labels include `labels`; undefined when there are none. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let sum: number | undefined;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) {
        sum = (sum ?? 0) + sample.value;
      }
    }
  }
  return sum;
}
