import { Counter, Histogram, type Registry } from 'prom-client';

/** A label value as events carry it; turned into a string once, when its cell is made. */
export type LabelValue = string | number | boolean;

/**
 * The cells of one metric by label tuple, found through one map per label keyed by the raw values:
 * finding the cell of a known tuple builds no key string and no labels object, unlike
 * prom-client's `inc(labels)`/`observe(labels)`, which hash and validate the labels on every call.
 */
class CellTree<TCell> {
  readonly #root = new Map<LabelValue, unknown>();
  readonly #names: readonly string[];
  readonly #make: (labels: Record<string, string>) => TCell;
  readonly cells: TCell[] = [];

  constructor(names: readonly string[], make: (labels: Record<string, string>) => TCell) {
    if (names.length < 1 || names.length > 4) throw new RangeError('A cell tree takes 1 to 4 labels.');
    this.#names = names;
    this.#make = make;
  }

  at(v0: LabelValue, v1?: LabelValue, v2?: LabelValue, v3?: LabelValue): TCell {
    const depth = this.#names.length;
    let level = this.#root;
    for (let index = 0; index < depth - 1; index++) {
      const value = index === 0 ? v0 : index === 1 ? v1 : v2;
      let next = level.get(value as LabelValue) as Map<LabelValue, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value as LabelValue, next);
      }
      level = next;
    }
    const last = depth === 1 ? v0 : depth === 2 ? v1 : depth === 3 ? v2 : v3;
    let cell = level.get(last as LabelValue) as TCell | undefined;
    if (cell === undefined) {
      const values = [v0, v1, v2, v3];
      const labels: Record<string, string> = {};
      this.#names.forEach((name, index) => {
        labels[name] = String(values[index]);
      });
      cell = this.#make(labels);
      level.set(last as LabelValue, cell);
      this.cells.push(cell);
    }
    return cell;
  }
}

/** The running total of one label tuple of a {@link CellCounter}. */
export class CounterCell {
  /** Added since the last scrape. */
  pending = 0;
  shown = false;
  constructor(readonly labels: Record<string, string>) {}

  add(value = 1): void {
    this.pending += value;
  }
}

/**
 * A Prometheus counter whose increments land in plain per-tuple cells and reach prom-client's
 * counter when scraped (its `collect` hook): the event path does a map lookup and an addition.
 */
export class CellCounter<TLabel extends string> {
  readonly counter: Counter<TLabel>;
  readonly #cells: CellTree<CounterCell>;

  constructor(registry: Registry, name: string, help: string, labelNames: TLabel[]) {
    const cells = new CellTree(labelNames, (labels) => new CounterCell(labels));
    this.#cells = cells;
    this.counter = new Counter<TLabel>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const cell of cells.cells) {
          if (cell.pending === 0 && cell.shown) continue;
          this.inc(cell.labels as Partial<Record<TLabel, string>>, cell.pending);
          cell.pending = 0;
          cell.shown = true;
        }
      },
    });
  }

  /** The cell of one label tuple, values in the order of `labelNames`. */
  at(v0: LabelValue, v1?: LabelValue, v2?: LabelValue, v3?: LabelValue): CounterCell {
    return this.#cells.at(v0, v1, v2, v3);
  }
}

/** The observations of one label tuple of a {@link CellHistogram}. */
export class HistogramCell {
  /** Observations per bucket, not cumulative; the last one is past the highest bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(
    readonly labels: Record<string, string>,
    bounds: readonly number[],
  ) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index++;
    this.counts[index] = (this.counts[index] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** prom-client's record of one label tuple of a histogram, which its exposition reads. */
interface HistogramEntry {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram whose observations land in plain per-tuple cells; prom-client formats
 * them when scraped. Its `collect` hook writes the cells into the histogram's own records (the
 * `hashMap` its exposition reads, not a typed API: `label-cells.test.ts` checks the output against
 * prom-client's own histogram for the same observations).
 */
export class CellHistogram<TLabel extends string> {
  readonly histogram: Histogram<TLabel>;
  readonly #cells: CellTree<HistogramCell>;

  constructor(registry: Registry, name: string, help: string, labelNames: TLabel[], buckets: number[]) {
    const bounds = [...buckets].sort((a, b) => a - b);
    const cells = new CellTree(labelNames, (labels) => new HistogramCell(labels, bounds));
    this.#cells = cells;
    this.histogram = new Histogram<TLabel>({
      name,
      help,
      labelNames,
      buckets: bounds,
      registers: [registry],
      collect() {
        const records = (this as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap;
        cells.cells.forEach((cell, index) => {
          const bucketValues: Record<number, number> = {};
          bounds.forEach((bound, bucket) => {
            bucketValues[bound] = cell.counts[bucket] as number;
          });
          records[`cell:${index}`] = { labels: cell.labels, bucketValues, sum: cell.sum, count: cell.count };
        });
      },
    });
  }

  /** The cell of one label tuple, values in the order of `labelNames`. */
  at(v0: LabelValue, v1?: LabelValue, v2?: LabelValue, v3?: LabelValue): HistogramCell {
    return this.#cells.at(v0, v1, v2, v3);
  }
}
