// The arithmetic of `meterline top`, as Prometheus does it: increases of counters between two scrapes (a counter
// that went down was reset: the process restarted, so everything it counts now is new) and histogram_quantile()
// over cumulative buckets. Pure functions: no I/O, no clock.

/** One cumulative bucket: observations less than or equal to `le` (the last is +Inf). */
export interface Bucket {
  le: number;
  count: number;
}

/** Increase of a counter from `prev` to `cur`; a decrease is a reset (the counter restarted from 0). */
export function counterIncrease(prev: number | undefined, cur: number): number {
  if (prev === undefined) return cur; // a series born between the two scrapes started at 0
  return cur >= prev ? cur - prev : cur;
}

/**
 * Increase of a histogram's cumulative buckets between two scrapes. A lower `_count` or any lower bucket means
 * the histogram was reset: the increase is then all of `cur`. Buckets are matched by `le`; a bucket `prev` lacks
 * counts from 0.
 */
export function bucketsIncrease(prev: readonly Bucket[] | undefined, cur: readonly Bucket[]): Bucket[] {
  if (prev === undefined) return cur.map((b) => ({ le: b.le, count: b.count }));
  const before = new Map(prev.map((b) => [b.le, b.count]));
  let reset = false;
  for (const b of cur) {
    const p = before.get(b.le);
    if (p !== undefined && b.count < p) reset = true;
  }
  return cur.map((b) => ({ le: b.le, count: reset ? b.count : b.count - (before.get(b.le) ?? 0) }));
}

/** Bucket lists added up by `le` (Prometheus `sum by (le)`), sorted by `le`. */
export function sumBuckets(lists: readonly (readonly Bucket[])[]): Bucket[] {
  const sums = new Map<number, number>();
  for (const list of lists) for (const b of list) sums.set(b.le, (sums.get(b.le) ?? 0) + b.count);
  return [...sums].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * Prometheus `histogram_quantile(q, buckets)`: the bucket holding rank q * total is found and the value is
 * interpolated linearly within it; the first bucket starts at 0 (unless its bound is <= 0: then that bound);
 * a rank in the +Inf bucket answers the highest finite bound. NaN without observations or without a +Inf bucket;
 * -Inf / +Inf for q < 0 / q > 1. Counts that are not monotonic (scraped mid-update) are made so first.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1].le !== Infinity) return NaN;
  let max = 0;
  const counts = sorted.map((b) => (max = Math.max(max, b.count)));
  const total = counts[counts.length - 1];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let b = 0;
  while (b < counts.length - 1 && counts[b] < rank) b++;
  if (b === counts.length - 1) return sorted[sorted.length - 2].le;
  if (b === 0 && sorted[0].le <= 0) return sorted[0].le;
  const start = b === 0 ? 0 : sorted[b - 1].le;
  const below = b === 0 ? 0 : counts[b - 1];
  const inBucket = counts[b] - below;
  return start + (sorted[b].le - start) * ((rank - below) / inBucket);
}
