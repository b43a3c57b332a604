/**
 * OpenTelemetry's base-2 exponential histogram (Prometheus' native histogram), positive values only: bucket `index` at
 * scale `s` holds the values in (2^(index·2^-s), 2^((index+1)·2^-s)]. It starts at the highest scale and halves its
 * resolution (scale - 1, neighbouring buckets merged) whenever the buckets in use would span more than `maxBuckets`.
 * Values at or below `ZERO_THRESHOLD` are counted in the zero bucket.
 */

/** Prometheus' schema range: scales outside it cannot be served. */
export const MIN_SCALE = -4;
export const MAX_SCALE = 8;
/** OpenTelemetry's default maximum number of buckets. */
export const DEFAULT_MAX_BUCKETS = 160;
/**
 * Width of the zero bucket: 2^-128, client_golang's default. A threshold above 0 is what marks a histogram as native
 * to Prometheus 2.40-2.44, even before its first observation.
 */
export const ZERO_THRESHOLD = 2 ** -128;

/** A copy of the buckets at one scrape. `counts[i]` is bucket `offset + i` (OpenTelemetry index). */
export interface ExponentialSnapshot {
  scale: number;
  zeroThreshold: number;
  zeroCount: number;
  offset: number;
  counts: number[];
}

export class ExponentialHistogram {
  scale: number;
  /** 2^scale: index = ceil(log2(v) · factor) - 1 */
  private factor: number;
  zeroCount = 0;
  /** OpenTelemetry index of counts[0] */
  offset = 0;
  counts: number[] = [];

  constructor(
    scale: number,
    readonly maxBuckets: number,
  ) {
    this.scale = scale;
    this.factor = 2 ** scale;
  }

  record(value: number): void {
    if (!(value > ZERO_THRESHOLD)) {
      this.zeroCount++;
      return;
    }
    const at = Math.ceil(Math.log2(value) * this.factor) - 1 - this.offset;
    if (at >= 0 && at < this.counts.length) this.counts[at]++;
    else this.extend(value);
  }

  /** Slow path: the value falls outside the buckets in use (first value, a new extreme): widen, rescale if needed. */
  private extend(value: number): void {
    let index = Math.ceil(Math.log2(value) * this.factor) - 1;
    if (!Number.isFinite(index)) return; // +Inf has no bucket; the classic histogram still counts it
    const counts = this.counts;
    if (counts.length === 0) {
      this.counts = [1];
      this.offset = index;
      return;
    }
    let lo = Math.min(this.offset, index);
    let hi = Math.max(this.offset + counts.length - 1, index);
    let shift = 0;
    while (hi - lo + 1 > this.maxBuckets && this.scale - shift > MIN_SCALE) {
      lo >>= 1;
      hi >>= 1;
      shift++;
    }
    const next: number[] = new Array<number>(hi - lo + 1).fill(0);
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] !== 0) next[((this.offset + i) >> shift) - lo] += counts[i];
    }
    index >>= shift;
    next[index - lo]++;
    this.counts = next;
    this.offset = lo;
    if (shift > 0) {
      this.scale -= shift;
      this.factor = 2 ** this.scale;
    }
  }

  snapshot(): ExponentialSnapshot {
    return {
      scale: this.scale,
      zeroThreshold: ZERO_THRESHOLD,
      zeroCount: this.zeroCount,
      offset: this.offset,
      counts: this.counts.slice(),
    };
  }
}

/** Lower and upper bound of OpenTelemetry bucket `index` at `scale`. */
export function exponentialBounds(scale: number, index: number): [number, number] {
  const base = 2 ** (2 ** -scale);
  return [base ** index, base ** (index + 1)];
}
