import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { performance } from 'node:perf_hooks';
import type { Exemplar } from './exemplars.js';
import type { HistogramPoint } from './histogram.js';
import { escapeLabelValue, formatValue, prometheusName } from './naming.js';
import { ByteWriter, familiesOf, histogramHeads, renderLabels, type Family } from './serializer.js';

/**
 * The OpenMetrics 1.0 text exposition: the families of the 0.0.4 writer, with counters typed on the family name
 * without `_total` (samples keep it), `# UNIT` where the name ends in its unit, exemplars on histogram buckets, and
 * `# EOF`. `_created` samples are left out (optional; Prometheus before 2.50 would store them as series of their own).
 */

/** Data points written between two looks at the clock (as the 0.0.4 writer). */
const POINTS_PER_CHECK = 32;

/** ` # {trace_id="…",span_id="…"} value timestamp` (the space before `#` included). */
export function exemplarSuffix(e: Exemplar): string {
  return (
    ' # {trace_id="' +
    escapeLabelValue(e.traceId) +
    '",span_id="' +
    escapeLabelValue(e.spanId) +
    '"} ' +
    formatValue(e.value) +
    ' ' +
    (e.timestamp / 1000).toFixed(3)
  );
}

/** The OpenMetrics family name and the unit it ends in ('' when none), from a 0.0.4 family. */
function metadataOf(family: Family): { name: string; unit: string } {
  const name = family.kind === 'counter' ? family.name.slice(0, -'_total'.length) : family.name;
  const descriptor = family.metrics[0].descriptor;
  const bare = prometheusName(descriptor.name, '', family.kind);
  const unit =
    name.length > bare.length + 1 && name.startsWith(bare + '_') ? name.slice(bare.length + 1) : '';
  return { name, unit };
}

function writeScalar(name: string, p: DataPoint<number>, out: ByteWriter): void {
  const labels = renderLabels(p.attributes);
  out.text(labels === '' ? name + ' ' : name + '{' + labels + '} ');
  out.value(p.value);
  out.newline();
}

function writeHistogram(name: string, p: DataPoint<HistogramPoint>, out: ByteWriter): void {
  const h = p.value;
  const counts = h.buckets.counts;
  const exemplars = h.exemplars;
  const heads = histogramHeads(name, p.attributes as Attributes, h.buckets.boundaries);
  let cumulative = 0;
  for (let b = 0; b < counts.length; b++) {
    cumulative += counts[b];
    out.bytes(heads[b]);
    out.value(cumulative);
    const e = exemplars === undefined ? undefined : exemplars[b];
    if (e !== undefined) out.text(exemplarSuffix(e));
    out.newline();
  }
  out.bytes(heads[counts.length]);
  out.value(h.sum ?? 0);
  out.newline();
  out.bytes(heads[counts.length + 1]);
  out.value(h.count);
  out.newline();
}

/** Writes the OpenMetrics exposition of one collection, resumably (see `ExpositionWriter`). */
export class OpenMetricsWriter {
  private readonly families: Family[];
  private readonly out: ByteWriter;
  private f = 0;
  private m = 0;
  private p = -1;
  private sampleName = '';

  constructor(resourceMetrics: ResourceMetrics, reuse: Buffer | undefined) {
    this.families = familiesOf(resourceMetrics);
    this.out = new ByteWriter(64 * 1024, reuse);
    const labels = renderLabels(resourceMetrics.resource.attributes as Attributes);
    if (labels !== '') {
      this.out.text('# TYPE target info\n# HELP target Target metadata\ntarget_info{' + labels + '} 1\n');
    }
  }

  write(deadline: number): boolean {
    const out = this.out;
    const families = this.families;
    let budget = POINTS_PER_CHECK;
    while (this.f < families.length) {
      const family = families[this.f];
      if (this.p === -1) {
        const { name, unit } = metadataOf(family);
        out.text('# TYPE ' + name + ' ' + family.kind + '\n');
        if (unit !== '') out.text('# UNIT ' + name + ' ' + unit + '\n');
        out.text('# HELP ' + name + ' ' + escapeLabelValue(family.help === '' ? name : family.help) + '\n');
        this.sampleName = family.name; // counters: `_total` on the samples
        this.p = 0;
      }
      while (this.m < family.metrics.length) {
        const points = family.metrics[this.m].dataPoints;
        const histogram = family.kind === 'histogram';
        while (this.p < points.length) {
          if (histogram) writeHistogram(this.sampleName, points[this.p] as DataPoint<HistogramPoint>, out);
          else writeScalar(this.sampleName, points[this.p] as DataPoint<number>, out);
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
    if (this.f === families.length) {
      out.text('# EOF\n');
      this.f++;
    }
    return true;
  }

  result(): { bytes: Buffer; backing: Buffer } {
    return { bytes: this.out.result(), backing: this.out.buf };
  }
}
