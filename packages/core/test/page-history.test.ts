import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_SIZE_BUCKETS,
  DEFAULT_CONNECTION_DURATION_BUCKETS,
} from '../src/http-metrics.js';
import { HISTORY_POINTS, PageHistory, SUMMARY_POINTS, UNMATCHED_ROUTE } from '../src/page-history.js';
import { bucketQuantile } from '../src/quantile.js';
import { HttpStore } from '../src/store.js';

const GET = 0;
function newStore(): HttpStore {
  return new HttpStore({
    durationBuckets: DEFAULT_DURATION_BUCKETS,
    requestSizeBuckets: DEFAULT_SIZE_BUCKETS,
    responseSizeBuckets: DEFAULT_SIZE_BUCKETS,
    connectionDurationBuckets: DEFAULT_CONNECTION_DURATION_BUCKETS,
    maxRoutes: 100,
    maxErrorTypes: 10,
  });
}
/** Record `n` requests on a route, as the recorder does when they finish. */
function record(
  store: HttpStore,
  route: string | undefined,
  n: number,
  seconds: number,
  status = 200,
  bytes = 0,
): void {
  const s = store.series(store.route(route), GET, 0, 1, status, status >= 500 ? String(status) : undefined);
  for (let i = 0; i < n; i++) {
    s.duration.record(seconds);
    s.requestSize.record(0);
    s.responseSize.record(bytes);
  }
}

describe('bucketQuantile (histogram_quantile semantics)', () => {
  const bounds = [0.1, 0.2, 0.4];
  it('interpolates linearly within the bucket holding the rank; the first bucket starts at 0', () => {
    expect(bucketQuantile(0.5, bounds, [0, 10, 0, 0])).toBeCloseTo(0.15, 10);
    expect(bucketQuantile(0.95, bounds, [0, 10, 0, 0])).toBeCloseTo(0.195, 10);
    expect(bucketQuantile(0.5, bounds, [10, 0, 0, 0])).toBeCloseTo(0.05, 10);
    // 4 in the first bucket, 4 in the third: the median is at the top of the first bucket
    expect(bucketQuantile(0.5, bounds, [4, 0, 4, 0])).toBeCloseTo(0.1, 10);
    expect(bucketQuantile(0.75, bounds, [4, 0, 4, 0])).toBeCloseTo(0.3, 10);
  });
  it('answers the highest finite bound for a rank in +Inf, NaN without observations, ±Inf outside [0, 1]', () => {
    expect(bucketQuantile(0.99, bounds, [0, 0, 0, 5])).toBe(0.4);
    expect(bucketQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNaN();
    expect(bucketQuantile(-1, bounds, [1, 0, 0, 0])).toBe(-Infinity);
    expect(bucketQuantile(2, bounds, [1, 0, 0, 0])).toBe(Infinity);
  });
});

describe('PageHistory', () => {
  it('records per-route rate, error ratio and percentiles per interval and sums the last minute', () => {
    const store = newStore();
    const h = new PageHistory(store);
    let t = 1_000_000;
    h.sample(t); // baseline: no point
    expect(h.data().times).toEqual([]);
    for (let i = 0; i < 3; i++) {
      record(store, '/a', 50, 0.03, 200, 100); // 10/s at 5 s intervals, in (0.025, 0.05]
      record(store, '/b', 8, 0.3); // (0.25, 0.5]
      record(store, '/b', 2, 0.3, 503);
      t += 5000;
      h.sample(t);
    }
    const d = h.data();
    expect(d.times).toEqual([1_005_000, 1_010_000, 1_015_000]);
    expect(d.summarySeconds).toBe(15);
    expect(d.routes.map((r) => r.route)).toEqual(['/a', '/b']);
    const [a, b] = d.routes;
    expect(a.points.rate).toEqual([10, 10, 10]);
    expect(a.summary).toMatchObject({ requests: 150, rate: 10, errorRatio: 0 });
    expect(a.summary.bytesPerSecond).toBe(1000);
    expect(a.summary.p50).toBeCloseTo(0.0375, 10);
    expect(b.points.errorRatio).toEqual([0.2, 0.2, 0.2]);
    expect(b.summary).toMatchObject({ requests: 30, rate: 2, errorRatio: 0.2 });
    expect(b.summary.p95).toBeCloseTo(0.25 + 0.25 * 0.95, 10);
    expect(b.points.p99[0]).toBeCloseTo(0.25 + 0.25 * 0.99, 10);
  });

  it('gives a route first seen late zeros before, an idle interval no percentiles, unmatched requests a name', () => {
    const store = newStore();
    const h = new PageHistory(store);
    let t = 0;
    h.sample(t);
    record(store, '/a', 5, 0.01);
    h.sample((t += 5000));
    h.sample((t += 5000)); // nothing happened
    record(store, '/late', 10, 0.01);
    record(store, undefined, 5, 0.01, 404);
    h.sample((t += 5000));
    const d = h.data();
    const late = d.routes.find((r) => r.route === '/late');
    expect(late?.points.rate).toEqual([0, 0, 2]);
    const a = d.routes.find((r) => r.route === '/a');
    expect(a?.points.rate).toEqual([1, 0, 0]);
    expect(a?.points.p50[1]).toBeNull();
    expect(a?.points.errorRatio[1]).toBeNull();
    expect(d.routes.find((r) => r.route === UNMATCHED_ROUTE)?.summary.requests).toBe(5);
  });

  it('keeps a ring of HISTORY_POINTS points and a summary of the last SUMMARY_POINTS intervals', () => {
    const store = newStore();
    const h = new PageHistory(store);
    let t = 0;
    h.sample(t);
    for (let i = 0; i < HISTORY_POINTS + 7; i++) {
      record(store, '/a', i < HISTORY_POINTS ? 5 : 50, 0.01); // the last 7 intervals 10/s, before 1/s
      h.sample((t += 5000));
    }
    const d = h.data();
    expect(d.times).toHaveLength(HISTORY_POINTS);
    expect(d.times[0]).toBe(8 * 5000);
    expect(d.routes[0].points.rate.at(-1)).toBe(10);
    expect(d.summarySeconds).toBe(SUMMARY_POINTS * 5);
    expect(d.routes[0].summary.requests).toBe(7 * 50 + (SUMMARY_POINTS - 7) * 5);
  });

  it('samples on an unref-ed timer only after touch(), and stops and forgets when nobody asks', async () => {
    const store = newStore();
    const h = new PageHistory(store, 20, 100);
    expect(h.running).toBe(false);
    h.touch();
    expect(h.running).toBe(true);
    record(store, '/a', 3, 0.01);
    await new Promise((r) => setTimeout(r, 60));
    expect(h.data().times.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.running).toBe(false);
    expect(h.data().times).toEqual([]);
  });
});
