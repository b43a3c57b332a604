import type { SpanContext } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { BucketExemplars, type Exemplar } from './exemplars.js';
import type { ExponentialHistogram, ExponentialSnapshot } from './exponential-histogram.js';

/** A histogram point as core collects it: the classic buckets, plus native buckets and exemplars when there are. */
export interface HistogramPoint extends Histogram {
  /** the native (exponential) buckets of the same observations (the `nativeHistograms` option) */
  native?: ExponentialSnapshot;
  /** the latest exemplar of each classic bucket, by bucket index */
  exemplars?: (Exemplar | undefined)[];
}

/**
 * A fixed-bucket histogram aggregated in place: one array increment per observation, no allocation.
 * `counts[i]` is the number of observations in bucket i (not cumulative), as the OpenTelemetry data model has it.
 * A plain array (small integers, V8's packed SMI elements) rather than a Float64Array: a scrape copies it with
 * `slice()` (a memory copy, ~0.2 KB); `Array.from(float64Array)` iterated element by element, boxing each count
 * (~1.3 µs and ~0.5 KB of garbage per histogram, most of a 10k-line scrape's young-generation churn).
 */
export class FixedHistogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** the same observations in native buckets, when the `nativeHistograms` option is on */
  native: ExponentialHistogram | undefined = undefined;
  exemplars: BucketExemplars | undefined = undefined;

  constructor(readonly boundaries: readonly number[]) {
    const counts: number[] = [];
    for (let i = 0; i <= boundaries.length; i++) counts.push(0);
    this.counts = counts;
  }

  /** Count one observation; returns its bucket's index. */
  record(value: number): number {
    const b = this.boundaries;
    const n = b.length;
    let i = 0;
    while (i < n && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.native !== undefined) this.native.record(value);
    return i;
  }

  /** Keep `span` as the exemplar of bucket `bucket` (the one `record` returned for `value`). */
  exemplar(bucket: number, value: number, span: SpanContext): void {
    if (this.exemplars === undefined) this.exemplars = new BucketExemplars(this.counts.length);
    this.exemplars.offer(bucket, value, span);
  }

  /** Snapshot in the shape the SDK's readers and exporters expect. */
  toPoint(): HistogramPoint {
    const point: HistogramPoint = {
      buckets: { boundaries: this.boundaries as number[], counts: this.counts.slice() },
      sum: this.sum,
      count: this.count,
      min: this.count > 0 ? this.min : undefined,
      max: this.count > 0 ? this.max : undefined,
    };
    if (this.native !== undefined) point.native = this.native.snapshot();
    if (this.exemplars !== undefined) point.exemplars = this.exemplars.snapshot();
    return point;
  }
}
