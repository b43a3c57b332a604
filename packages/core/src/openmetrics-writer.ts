import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { FamilyWalk } from './family-walk.js';
import type { HistogramPoint } from './histogram.js';
import { escapeLabelValue, prometheusName } from './naming.js';
import { ByteWriter, familiesOf, type Family } from './serializer.js';
import { renderLabels, writeHistogram, writeScalar } from './text-lines.js';

/**
 * The OpenMetrics 1.0 text exposition: the families of the 0.0.4 writer, with counters typed on the family name
 * without `_total` (samples keep it), `# UNIT` where the name ends in its unit, exemplars on histogram buckets, and
 * `# EOF`. `_created` samples are left out (optional; Prometheus before 2.50 would store them as series of their own).
 */

/** The OpenMetrics family name and the unit it ends in ('' when none), from a 0.0.4 family. */
function metadataOf(family: Family): { name: string; unit: string } {
  const name = family.kind === 'counter' ? family.name.slice(0, -'_total'.length) : family.name;
  const descriptor = family.metrics[0].descriptor;
  const bare = prometheusName(descriptor.name, '', family.kind);
  const unit =
    name.length > bare.length + 1 && name.startsWith(bare + '_') ? name.slice(bare.length + 1) : '';
  return { name, unit };
}

/** Writes the OpenMetrics exposition of one collection, resumably (see `FamilyWalk`). */
export class OpenMetricsWriter extends FamilyWalk {
  private readonly out: ByteWriter;

  constructor(resourceMetrics: ResourceMetrics, reuse: Buffer | undefined) {
    super(familiesOf(resourceMetrics));
    this.out = new ByteWriter(64 * 1024, reuse);
    const labels = renderLabels(resourceMetrics.resource.attributes as Attributes);
    if (labels !== '') {
      this.out.text('# TYPE target info\n# HELP target Target metadata\ntarget_info{' + labels + '} 1\n');
    }
  }

  protected begin(family: Family): void {
    const { name, unit } = metadataOf(family);
    const out = this.out;
    out.text('# TYPE ' + name + ' ' + family.kind + '\n');
    if (unit !== '') out.text('# UNIT ' + name + ' ' + unit + '\n');
    out.text('# HELP ' + name + ' ' + escapeLabelValue(family.help === '' ? name : family.help) + '\n');
  }

  // the samples are named as the 0.0.4 family: counters with `_total`
  protected scalar(family: Family, point: DataPoint<number>): void {
    writeScalar(family.name, point, this.out);
  }

  protected histogram(family: Family, point: DataPoint<HistogramPoint>): void {
    writeHistogram(family.name, point, point.value.exemplars, this.out);
  }

  protected override finish(): void {
    this.out.text('# EOF\n');
  }

  result(): { bytes: Buffer; backing: Buffer } {
    return { bytes: this.out.result(), backing: this.out.buf };
  }
}
