/**
 * A tiny metrics registry — counters and histograms with labels — rendered in the Prometheus
 * text exposition format 0.0.4. No dependency: the format is a few lines of text per series.
 *
 * **Bounded cardinality, by construction.** Every label is declared with the fixed set of values
 * it may take; any other value is recorded as {@link OTHER}. Label values therefore never come
 * from user input (paths, client ids, tool names, subjects): a client cannot grow the series
 * count, and no identifier or credential can reach the exposition.
 *
 * @see https://github.com/prometheus/docs/blob/main/content/docs/instrumenting/exposition_formats.md
 */

/** The value an undeclared label value is recorded as. */
export const OTHER = 'other';

/** Content-Type of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Default histogram buckets, in seconds (request latencies from 1 ms to 2.5 s). */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);

/** Each label name, with the only values it may take. */
export type LabelSets<L extends string> = { readonly [K in L]: readonly string[] };
/** The labels of one observation; values outside the declared set become {@link OTHER}. */
export type Labels<L extends string> = { readonly [K in L]: string | number };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label value escaping of the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escaping of the text format: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the text format writes it (Go float syntax for the specials). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

interface Metric {
  render(): string;
}

/** Validates names and the declared value sets; returns the label names in declaration order. */
function declare<L extends string>(name: string, labels: LabelSets<L>, reserved: readonly string[] = []): { names: readonly L[]; allowed: ReadonlyMap<L, ReadonlySet<string>> } {
  if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
  const names = Object.keys(labels) as L[];
  const allowed = new Map<L, ReadonlySet<string>>();
  for (const label of names) {
    if (!LABEL_NAME.test(label) || label.startsWith('__') || reserved.includes(label)) throw new TypeError(`invalid label name ${JSON.stringify(label)} of ${name}`);
    allowed.set(label, new Set([...labels[label], OTHER]));
  }
  return { names, allowed };
}

abstract class LabelledMetric<L extends string, S> implements Metric {
  protected readonly series = new Map<string, { labels: string; state: S }>();
  protected readonly names: readonly L[];
  readonly #allowed: ReadonlyMap<L, ReadonlySet<string>>;

  constructor(
    readonly name: string,
    readonly help: string,
    labels: LabelSets<L>,
    reserved: readonly string[],
  ) {
    ({ names: this.names, allowed: this.#allowed } = declare(name, labels, reserved));
  }

  /** The series of `labels` (created on first use), every value mapped into its declared set. */
  protected seriesOf(labels: Labels<L> | undefined, create: () => S): { labels: string; state: S } {
    const values = this.names.map((label) => {
      const value = String(labels?.[label] ?? OTHER);
      return this.#allowed.get(label)!.has(value) ? value : OTHER;
    });
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: this.names.map((label, i) => `${label}="${escapeLabelValue(values[i]!)}"`).join(','), state: create() };
      this.series.set(key, entry);
    }
    return entry;
  }

  protected header(type: 'counter' | 'histogram'): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${type}\n`;
  }

  abstract render(): string;
}

/** A monotonically increasing count, per label combination. */
export class Counter<L extends string = never> extends LabelledMetric<L, { value: number }> {
  constructor(name: string, help: string, labels: LabelSets<L> = {} as LabelSets<L>) {
    super(name, help, labels, []);
    // An unlabelled counter exists (at 0) from the start: absence and zero read differently.
    if (this.names.length === 0) this.seriesOf(undefined, () => ({ value: 0 }));
  }

  /** Adds `by` (default 1; must be a finite number >= 0). */
  inc(...args: [L] extends [never] ? [labels?: undefined, by?: number] : [labels: Labels<L>, by?: number]): void {
    const [labels, by = 1] = args;
    if (!Number.isFinite(by) || by < 0) throw new RangeError(`${this.name}: a counter only increases (got ${by})`);
    this.seriesOf(labels as Labels<L> | undefined, () => ({ value: 0 })).state.value += by;
  }

  /** The current value of one series (tests, diagnostics). */
  get(...args: [L] extends [never] ? [] : [labels: Labels<L>]): number {
    return this.seriesOf(args[0] as Labels<L> | undefined, () => ({ value: 0 })).state.value;
  }

  /** The sum over every series (all label combinations). */
  total(): number {
    let sum = 0;
    for (const { state } of this.series.values()) sum += state.value;
    return sum;
  }

  render(): string {
    let text = this.header('counter');
    for (const { labels, state } of this.series.values()) text += `${this.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(state.value)}\n`;
    return text;
  }
}

interface HistogramState {
  /** Per-bucket (non-cumulative) counts; the last entry is the +Inf bucket. */
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into fixed buckets, per label combination. */
export class Histogram<L extends string = never> extends LabelledMetric<L, HistogramState> {
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labels: LabelSets<L> = {} as LabelSets<L>, buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, labels, ['le']);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new TypeError(`${name}: buckets must be finite and strictly increasing`);
    }
    this.buckets = Object.freeze([...buckets]);
  }

  /** Records one observation (NaN is ignored). */
  observe(...args: [L] extends [never] ? [labels: undefined, value: number] : [labels: Labels<L>, value: number]): void {
    const [labels, value] = args;
    if (Number.isNaN(value)) return;
    const state = this.seriesOf(labels as Labels<L> | undefined, () => ({ counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 })).state;
    const index = this.buckets.findIndex((bound) => value <= bound);
    state.counts[index === -1 ? this.buckets.length : index]! += 1;
    state.sum += value;
    state.count += 1;
  }

  render(): string {
    let text = this.header('histogram');
    for (const { labels, state } of this.series.values()) {
      const prefix = labels === '' ? '' : `${labels},`;
      const suffix = labels === '' ? '' : `{${labels}}`;
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += state.counts[i]!;
        text += `${this.name}_bucket{${prefix}le="${formatValue(bound)}"} ${cumulative}\n`;
      });
      text += `${this.name}_bucket{${prefix}le="+Inf"} ${state.count}\n`;
      text += `${this.name}_sum${suffix} ${formatValue(state.sum)}\n`;
      text += `${this.name}_count${suffix} ${state.count}\n`;
    }
    return text;
  }
}

/**
 * A value read when the metrics are scraped (unlabelled). Renders nothing while `read` returns
 * undefined — a sample of a thing that does not exist (no signing key yet) would be a lie.
 */
export class Gauge implements Metric {
  #read: () => number | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    read: () => number | undefined = () => undefined,
  ) {
    declare(name, {});
    this.#read = read;
  }

  /** Replaces the reader (the value's owner may start after the registry). */
  readFrom(read: () => number | undefined): void {
    this.#read = read;
  }

  render(): string {
    let value: number | undefined;
    try {
      value = this.#read();
    } catch {
      value = undefined;
    }
    const header = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} gauge\n`;
    return value === undefined ? header : `${header}${this.name} ${formatValue(value)}\n`;
  }
}

/** Holds metrics and renders them all, in registration order. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  #add<M extends Metric & { name: string }>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new TypeError(`metric ${metric.name} is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  counter<L extends string = never>(name: string, help: string, labels?: LabelSets<L>): Counter<L> {
    return this.#add(new Counter<L>(name, help, labels));
  }

  histogram<L extends string = never>(name: string, help: string, labels?: LabelSets<L>, buckets?: readonly number[]): Histogram<L> {
    return this.#add(new Histogram<L>(name, help, labels, buckets));
  }

  gauge(name: string, help: string, read?: () => number | undefined): Gauge {
    return this.#add(new Gauge(name, help, read));
  }

  /** Every metric in the text exposition format 0.0.4 (serve with {@link PROMETHEUS_CONTENT_TYPE}). */
  render(): string {
    return [...this.#metrics.values()].map((metric) => metric.render()).join('');
  }
}
