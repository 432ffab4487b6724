/**
 * Counts over the last hour from cumulative counters (the stack's Prometheus metrics): the
 * counters are read once a minute and kept for an hour, so "last hour" is the current value minus
 * the oldest reading still in the window — exact to the minute, at no cost per request. Until the
 * instance has run an hour, the window starts at its start.
 */

/** Named cumulative counts, read all at once. */
export type ReadCounters = () => Readonly<Record<string, number>>;

/** Options of {@link MetricsWindow}. */
export interface MetricsWindowOptions {
  /** Window length (default one hour). */
  spanMs?: number;
  /** How often the counters are read (default one minute). */
  intervalMs?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** What the counters rose by within the window, and since when. */
export interface WindowCounts {
  /** Start of the window (ms since the epoch): the baseline reading, one window old or (young instance) its start. */
  from: number;
  counts: Record<string, number>;
  /** The counters' current values (since the instance started). */
  totals: Record<string, number>;
}

/** A sliding window over cumulative counters. Call {@link start} to read them on a timer, {@link stop} to end it. */
export class MetricsWindow {
  readonly #read: ReadCounters;
  readonly #span: number;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #readings: Array<{ at: number; values: Readonly<Record<string, number>> }> = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(read: ReadCounters, options: MetricsWindowOptions = {}) {
    this.#read = read;
    this.#span = options.spanMs ?? 3_600_000;
    this.#interval = options.intervalMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.sample();
  }

  /** Reads the counters now and forgets readings older than the window. */
  sample(): void {
    const at = this.#now();
    this.#readings.push({ at, values: { ...this.#read() } });
    // Keep the newest reading at least one window old: it is the baseline of "the last hour".
    while (this.#readings.length > 1 && this.#readings[1]!.at <= at - this.#span) this.#readings.shift();
  }

  /** The counters' rise within the window (current values minus the baseline reading). */
  counts(): WindowCounts {
    const now = this.#now();
    const totals = { ...this.#read() };
    const baseline = this.#readings[0] ?? { at: now, values: {} };
    const counts: Record<string, number> = {};
    for (const [name, value] of Object.entries(totals)) counts[name] = Math.max(0, value - (baseline.values[name] ?? 0));
    return { from: baseline.at, counts, totals };
  }

  /** Reads on a timer that never keeps the process alive. */
  start(): this {
    this.#timer ??= setInterval(() => this.sample(), this.#interval);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
