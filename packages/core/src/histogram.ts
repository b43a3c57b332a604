import type { Histogram } from '@opentelemetry/sdk-metrics';

/**
 * A fixed-bucket histogram aggregated in place: one typed-array increment per observation, no allocation.
 * `counts[i]` is the number of observations in bucket i (not cumulative), as the OpenTelemetry data model has it.
 */
export class FixedHistogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly boundaries: readonly number[]) {
    this.counts = new Float64Array(boundaries.length + 1);
  }

  record(value: number): void {
    const b = this.boundaries;
    const n = b.length;
    let i = 0;
    while (i < n && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Snapshot in the shape the SDK's readers and exporters expect. */
  toPoint(): Histogram {
    return {
      buckets: { boundaries: this.boundaries as number[], counts: Array.from(this.counts) },
      sum: this.sum,
      count: this.count,
      min: this.count > 0 ? this.min : undefined,
      max: this.count > 0 ? this.max : undefined,
    };
  }
}
