import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DataPointType } from './otel-enums.js';
import { FamilyWalk } from './family-walk.js';
import type { HistogramPoint } from './histogram.js';
import { escapeHelp, formatValue, prometheusName } from './naming.js';
import { reportOnce } from './report.js';
import { renderLabels, writeHistogram, writeScalar } from './text-lines.js';

type Kind = 'counter' | 'gauge' | 'histogram';

export interface Family {
  name: string;
  kind: Kind;
  help: string;
  /** the metrics of the family, rendered in this order */
  metrics: MetricData[];
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
  /**
   * A fresh buffer gets 1/16 more than asked: an exposition a few bytes longer than the last (a counter gained a digit)
   * would otherwise not fit the reused buffer, and each scrape of a large exposition allocated a new one (20 MB at 100k
   * lines, external memory that V8 answers with a full GC).
   */
  constructor(size: number, reuse?: Buffer) {
    this.buf = reuse !== undefined && reuse.length >= size ? reuse : Buffer.allocUnsafe(size + (size >>> 4));
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

/** Writes the 0.0.4 text exposition of one collection, resumably (see `FamilyWalk`). */
export class ExpositionWriter extends FamilyWalk {
  private readonly out: ByteWriter;

  constructor(
    resourceMetrics: ResourceMetrics,
    options: { targetInfo?: boolean },
    reuse: Buffer | undefined,
  ) {
    super(familiesOf(resourceMetrics));
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

  protected begin(family: Family): void {
    const help = family.help === '' ? family.name : escapeHelp(family.help);
    this.out.text(
      '# HELP ' + family.name + ' ' + help + '\n# TYPE ' + family.name + ' ' + family.kind + '\n',
    );
  }

  protected scalar(family: Family, point: DataPoint<number>): void {
    writeScalar(family.name, point, this.out);
  }

  // exemplars are OpenMetrics only
  protected histogram(family: Family, point: DataPoint<HistogramPoint>): void {
    writeHistogram(family.name, point, undefined, this.out);
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
