/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
 * with labels, rendered on demand. Label sets are bounded by the caller (methods, node labels,
 * refusal codes, relay URLs): no client-chosen string ever becomes a label value.
 */

type Labels = Readonly<Record<string, string>>;

const NAME = /^[a-z_][a-z0-9_]*$/;

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}="${escapeLabel(labels[key]!)}"`)
    .join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function series(name: string, key: string, value: number): string {
  return `${name}${key === '' ? '' : `{${key}}`} ${Number.isFinite(value) ? value : 0}`;
}

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  value(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.#values].map(([key, value]) => series(this.name, key, value))];
  }
}

/** A gauge read at scrape time from a callback, so it can never go stale. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Iterable<readonly [Labels, number]>,
  ) {}

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...[...this.read()].map(([labels, value]) => series(this.name, labelKey(labels), value))];
  }
}

export class Histogram implements Metric {
  readonly #series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly upperBounds: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { buckets: this.upperBounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    this.upperBounds.forEach((bound, i) => {
      if (value <= bound) s.buckets[i]! += 1;
    });
    s.sum += value;
    s.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.#series) {
      const prefix = key === '' ? '' : `${key},`;
      this.upperBounds.forEach((bound, i) => lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${s.count}`, series(`${this.name}_sum`, key, s.sum), series(`${this.name}_count`, key, s.count));
    }
    return lines;
  }
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.#add(name, new Counter(name, help));
  }

  gauge(name: string, help: string, read: () => Iterable<readonly [Labels, number]>): Gauge {
    return this.#add(name, new Gauge(name, help, read));
  }

  histogram(name: string, help: string, upperBounds: readonly number[]): Histogram {
    return this.#add(name, new Histogram(name, help, upperBounds));
  }

  /** The text exposition of every metric. */
  render(): string {
    return `${[...this.#metrics.values()].flatMap((metric) => metric.render()).join('\n')}\n`;
  }

  #add<T extends Metric>(name: string, metric: T): T {
    if (!NAME.test(name)) throw new Error(`metric name ${name}: expected [a-z_][a-z0-9_]*`);
    if (this.#metrics.has(name)) throw new Error(`metric ${name} registered twice`);
    this.#metrics.set(name, metric);
    return metric;
  }
}
