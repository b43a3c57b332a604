/**
 * Prometheus `histogram_quantile()` over one histogram: `counts[i]` observations in bucket i (not cumulative, as
 * the store keeps them), `boundaries[i]` the upper bound of bucket i, the last bucket is +Inf. Linear
 * interpolation within the bucket holding the rank; the first bucket starts at 0; a rank in the +Inf bucket
 * answers the highest finite bound. NaN when there are no observations.
 */
export function bucketQuantile(q: number, boundaries: readonly number[], counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (!(total > 0) || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i];
    if (below + inBucket >= rank && inBucket > 0) {
      if (i >= boundaries.length) return boundaries[boundaries.length - 1];
      const upper = boundaries[i];
      const lower = i === 0 ? 0 : boundaries[i - 1];
      if (i === 0 && upper <= 0) return upper;
      return lower + ((upper - lower) * (rank - below)) / inBucket;
    }
    below += inBucket;
  }
  return boundaries[boundaries.length - 1];
}
