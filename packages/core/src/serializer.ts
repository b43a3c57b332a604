import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DataPointType } from './otel-enums.js';
import { escapeHelp, escapeLabelValue, formatValue, labelName, prometheusName } from './naming.js';
import { performance } from 'node:perf_hooks';
import { reportOnce } from './report.js';

type Kind = 'counter' | 'gauge' | 'histogram';

export interface Family {
  name: string;
  kind: Kind;
  help: string;
  /** the metrics of the family, rendered in this order */
  metrics: MetricData[];
}

/** Rendered label sets, by attributes object: the SDK and core both keep one frozen object per series. */
let labelStrings = new WeakMap<Attributes, string>();
/** Histogram line heads by attributes object and family name (see histogramHeads). */
let headBytes = new WeakMap<Attributes, Map<string, Buffer[]>>();
const leStrings = new WeakMap<readonly number[], string[]>();

function attributeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/** `k1="v1",k2="v2"` (no braces), label names sanitised, colliding names merged with `;` as the spec says. */
export function renderLabels(attributes: Attributes): string {
  let out = labelStrings.get(attributes);
  if (out !== undefined) return out;
  const keys = Object.keys(attributes);
  const names: string[] = [];
  const values: string[] = [];
  for (const key of keys) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = labelName(key);
    const value = attributeValue(v);
    const at = names.indexOf(name);
    if (at >= 0) values[at] = values[at] + ';' + value;
    else {
      names.push(name);
      values.push(value);
    }
  }
  out = '';
  for (let i = 0; i < names.length; i++) {
    out += (i === 0 ? '' : ',') + names[i] + '="' + escapeLabelValue(values[i]) + '"';
  }
  labelStrings.set(attributes, out);
  return out;
}

function leLabels(boundaries: readonly number[]): string[] {
  let out = leStrings.get(boundaries);
  if (out === undefined) {
    out = boundaries.map((b) => 'le="' + formatValue(b) + '"');
    out.push('le="+Inf"');
    leStrings.set(boundaries, out);
  }
  return out;
}

function kindOf(metric: MetricData): Kind | undefined {
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    default:
      return undefined;
  }
}

/**
 * The exposition text is written as bytes into one buffer, in one pass: cached byte heads per series and label
 * set (`name_bucket{labels,le="x"} `), integers written digit by digit, so a histogram bucket line allocates
 * nothing. Only non-integer values (sums, fractional gauges) go through a string.
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(size: number, reuse?: Buffer) {
    this.buf = reuse !== undefined && reuse.length >= size ? reuse : Buffer.allocUnsafe(size);
  }
  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  text(s: string): void {
    const max = s.length * 3;
    if (this.pos + max > this.buf.length) this.grow(max);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  newline(): void {
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = 10;
  }
  /** A number exactly as `formatValue` prints it. */
  value(v: number): void {
    if (!Number.isInteger(v) || v >= 1e15 || v <= -1e15) {
      this.text(formatValue(v));
      return;
    }
    if (this.pos + 17 > this.buf.length) this.grow(17);
    const buf = this.buf;
    if (v < 0) {
      buf[this.pos++] = 45; // '-'
      v = -v;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let at = this.pos + digits;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      buf[--at] = 48 + (v - q * 10);
      v = q;
    }
    buf[--at] = 48 + v;
    this.pos += digits;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function writeScalar(name: string, p: DataPoint<number>, out: ByteWriter): void {
  const labels = renderLabels(p.attributes);
  out.text(labels === '' ? name + ' ' : name + '{' + labels + '} ');
  out.value(p.value);
  out.newline();
}

export function histogramHeads(
  name: string,
  attributes: Attributes,
  boundaries: readonly number[],
): Buffer[] {
  let byName = headBytes.get(attributes);
  if (byName === undefined) {
    byName = new Map();
    headBytes.set(attributes, byName);
  }
  let heads = byName.get(name);
  if (heads === undefined || heads.length !== boundaries.length + 3) {
    const labels = renderLabels(attributes);
    const prefix = labels === '' ? name + '_bucket{' : name + '_bucket{' + labels + ',';
    const les = leLabels(boundaries);
    heads = [];
    for (let b = 0; b < les.length; b++) heads.push(Buffer.from(prefix + les[b] + '} ', 'utf8'));
    const suffix = labels === '' ? ' ' : '{' + labels + '} ';
    heads.push(Buffer.from(name + '_sum' + suffix, 'utf8'), Buffer.from(name + '_count' + suffix, 'utf8'));
    byName.set(name, heads);
  }
  return heads;
}

function writeHistogram(name: string, p: DataPoint<Histogram>, out: ByteWriter): void {
  const h = p.value;
  const counts = h.buckets.counts;
  const heads = histogramHeads(name, p.attributes, h.buckets.boundaries);
  let cumulative = 0;
  for (let b = 0; b < counts.length; b++) {
    cumulative += counts[b];
    out.bytes(heads[b]);
    out.value(cumulative);
    out.newline();
  }
  out.bytes(heads[counts.length]);
  out.value(h.sum ?? 0);
  out.newline();
  out.bytes(heads[counts.length + 1]);
  out.value(h.count);
  out.newline();
}

/** Size of the last exposition, to size the next one's buffer. */
let lastSize = 64 * 1024;

/** Families in the order of first appearance, from the collected scopes. */
export function familiesOf(resourceMetrics: ResourceMetrics): Family[] {
  const families = new Map<string, Family>();
  const order: Family[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const kind = kindOf(metric);
      if (kind === undefined) {
        reportOnce(
          `serialising ${metric.descriptor.name} (exponential histograms are not supported)`,
          new Error('unsupported'),
        );
        continue;
      }
      if (metric.dataPoints.length === 0) continue;
      // in the 0.0.4 text format a counter's family is named like its samples, `_total` included
      const base =
        prometheusName(metric.descriptor.name, metric.descriptor.unit, kind) +
        (kind === 'counter' ? '_total' : '');
      let family = families.get(base);
      if (family === undefined) {
        family = { name: base, kind, help: metric.descriptor.description, metrics: [] };
        families.set(base, family);
        order.push(family);
      } else if (family.kind !== kind) {
        reportOnce(
          `serialising ${metric.descriptor.name}`,
          new Error(`metric ${base} is produced as both ${family.kind} and ${kind}; the ${kind} is dropped`),
        );
        continue;
      }
      family.metrics.push(metric);
    }
  }
  return order;
}

/** Data points written between two looks at the clock in `ExpositionWriter.write` (a few hundred µs). */
const POINTS_PER_CHECK = 32;

/**
 * Writes the exposition of one collection, resumably: `write(deadline)` writes until `performance.now()` passes
 * `deadline` (or to the end) and says whether it is done, so that the shared handler can spread a large exposition
 * over several event-loop turns instead of blocking the loop for all of it.
 */
export class ExpositionWriter {
  private readonly families: Family[];
  private readonly out: ByteWriter;
  /** position: family, metric within it, data point within that (-1: the family's header is next) */
  private f = 0;
  private m = 0;
  private p = -1;

  constructor(
    resourceMetrics: ResourceMetrics,
    options: { targetInfo?: boolean },
    reuse: Buffer | undefined,
  ) {
    this.families = familiesOf(resourceMetrics);
    this.out = new ByteWriter(lastSize + 4096, reuse);
    if (options.targetInfo !== false) {
      const labels = renderLabels(resourceMetrics.resource.attributes as Attributes);
      if (labels !== '') {
        this.out.text(
          '# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{' + labels + '} 1\n',
        );
      }
    }
  }

  /** Write until the clock passes `deadline` (ms, `performance.now()` time); true once everything is written. */
  write(deadline: number): boolean {
    const out = this.out;
    const families = this.families;
    let budget = POINTS_PER_CHECK;
    while (this.f < families.length) {
      const family = families[this.f];
      if (this.p === -1) {
        const help = family.help === '' ? family.name : escapeHelp(family.help);
        out.text('# HELP ' + family.name + ' ' + help + '\n# TYPE ' + family.name + ' ' + family.kind + '\n');
        this.p = 0;
      }
      while (this.m < family.metrics.length) {
        const points = family.metrics[this.m].dataPoints;
        const histogram = family.kind === 'histogram';
        while (this.p < points.length) {
          if (histogram) writeHistogram(family.name, points[this.p] as DataPoint<Histogram>, out);
          else writeScalar(family.name, points[this.p] as DataPoint<number>, out);
          this.p++;
          if (--budget === 0) {
            if (performance.now() >= deadline) return false;
            budget = POINTS_PER_CHECK;
          }
        }
        this.m++;
        this.p = 0;
      }
      this.f++;
      this.m = 0;
      this.p = -1;
    }
    return true;
  }

  /** The exposition written (a view of `backing`, the writer's buffer). */
  result(): { bytes: Buffer; backing: Buffer } {
    const bytes = this.out.result();
    lastSize = bytes.length;
    return { bytes, backing: this.out.buf };
  }
}

/** The exposition (Prometheus text format 0.0.4) of the metrics, as UTF-8 bytes, written in one go. */
export function serializeToBuffer(
  resourceMetrics: ResourceMetrics,
  options: { targetInfo?: boolean } = {},
): Buffer {
  const writer = new ExpositionWriter(resourceMetrics, options, undefined);
  writer.write(Infinity);
  return writer.result().bytes;
}

/**
 * A few output buffers kept for the next scrapes. A 10k-line exposition is ~2 MB: a fresh buffer per scrape is
 * external memory that V8 answers with extra incremental marking (a scrape every few seconds kept a full mark of the
 * heap going, with steps of 10+ ms on a slow machine). A buffer is taken for one scrape and given back once the
 * response no longer needs it (sent, or compressed); one never given back (an aborted response) is left to the GC.
 */
export class OutputBuffers {
  private readonly free: Buffer[] = [];
  constructor(private readonly keep = 2) {}
  take(): Buffer | undefined {
    return this.free.pop();
  }
  give(buffer: Buffer): void {
    if (this.free.length < this.keep && !this.free.includes(buffer)) this.free.push(buffer);
  }
}

/** The exposition (Prometheus text format 0.0.4) of the metrics, as a string. */
export function serialize(resourceMetrics: ResourceMetrics, options: { targetInfo?: boolean } = {}): string {
  return serializeToBuffer(resourceMetrics, options).toString('utf8');
}

/** Drop cached label strings (tests). */
export function resetSerializerCache(): void {
  labelStrings = new WeakMap();
  headBytes = new WeakMap();
}
