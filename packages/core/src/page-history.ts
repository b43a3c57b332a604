import { ATTR_ERROR_TYPE, ATTR_ROUTE } from './constants.js';
import { bucketQuantile } from './quantile.js';
import { reportOnce } from './report.js';
import type { Series } from './series.js';
import type { HttpStore } from './store.js';

// The live page's history: the store sampled on a timer into per-route ring buffers. Nothing here runs per
// request; the timer starts when the page is first asked for and stops once nobody has asked for a while.

/** Sampling interval of the page's history, ms. */
export const SAMPLE_MS = 5000;
/** Points kept per route: 10 minutes at 5 s. */
export const HISTORY_POINTS = 120;
/** Intervals the page's table sums over: the last minute. */
export const SUMMARY_POINTS = 12;
/** The sampler stops (and forgets) after this long without a request for the page or its data, ms. */
export const IDLE_STOP_MS = 10 * 60_000;

/** Label of requests with no matched route (no `http.route` attribute). */
export const UNMATCHED_ROUTE = '(unmatched)';

const FIELDS = ['requests', 'errors', 'bytes', 'p50', 'p95', 'p99'] as const;
type Field = (typeof FIELDS)[number];

/** One route's cumulative totals at the last sample and its rings of per-interval values. */
class RouteTrack {
  count = 0;
  errors = 0;
  bytes = 0;
  readonly buckets: Float64Array;
  /** accumulators of the sample being taken */
  curCount = 0;
  curErrors = 0;
  curBytes = 0;
  readonly curBuckets: Float64Array;
  readonly rings: Record<Field, Float64Array>;
  /** per-interval bucket increases of the last SUMMARY_POINTS intervals (for the table's quantiles) */
  readonly bucketRing: Float64Array;
  constructor(
    readonly route: string,
    bucketCount: number,
  ) {
    this.buckets = new Float64Array(bucketCount);
    this.curBuckets = new Float64Array(bucketCount);
    this.bucketRing = new Float64Array(bucketCount * SUMMARY_POINTS);
    const rings = {} as Record<Field, Float64Array>;
    // a route first seen late had no requests before: counts start at 0, percentiles unknown
    for (const f of FIELDS) rings[f] = new Float64Array(HISTORY_POINTS).fill(f.startsWith('p') ? NaN : 0);
    this.rings = rings;
  }
}

export interface RoutePoints {
  /** requests per second in each interval */
  rate: (number | null)[];
  /** errors / requests in each interval (null without requests) */
  errorRatio: (number | null)[];
  /** latency percentiles of each interval, seconds (null without requests) */
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  /** request + response body bytes per second */
  bytesPerSecond: (number | null)[];
}

export interface RouteSummary {
  requests: number;
  rate: number;
  errorRatio: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  bytesPerSecond: number;
}

/** What the page's data endpoint answers. */
export interface PageData {
  intervalSeconds: number;
  /** seconds the summary covers (up to a minute; less right after the page was first opened) */
  summarySeconds: number;
  /** end time of each interval, ms since the epoch */
  times: number[];
  /** requests in flight at each sample (all routes: in-flight has no route) */
  inFlight: (number | null)[];
  routes: Array<{ route: string; summary: RouteSummary; points: RoutePoints }>;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export class PageHistory {
  private timer: NodeJS.Timeout | undefined;
  private lastAsked = 0;
  private lastSample = 0;
  /** samples taken since start (the first only sets the baseline) */
  private samples = 0;
  /** index of the next point in the rings */
  private next = 0;
  private readonly times = new Float64Array(HISTORY_POINTS).fill(NaN);
  /** length of each interval, seconds */
  private readonly seconds = new Float64Array(HISTORY_POINTS).fill(NaN);
  private readonly inFlight = new Float64Array(HISTORY_POINTS).fill(NaN);
  private readonly tracks = new Map<string, RouteTrack>();
  /** per series of the store (by index): its route's track and whether it counts errors */
  private seriesTrack: RouteTrack[] = [];
  private seriesError: boolean[] = [];

  constructor(
    private readonly store: HttpStore,
    private readonly sampleMs = SAMPLE_MS,
    private readonly idleStopMs = IDLE_STOP_MS,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** The page or its data was asked for: start sampling if not running (the first sample is the baseline). */
  touch(now = Date.now()): void {
    this.lastAsked = now;
    if (this.timer !== undefined) return;
    this.sample(now);
    this.timer = setInterval(() => this.tick(), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.tracks.clear();
    this.seriesTrack = [];
    this.seriesError = [];
    this.samples = 0;
    this.next = 0;
    this.times.fill(NaN);
    this.seconds.fill(NaN);
    this.inFlight.fill(NaN);
  }

  private tick(): void {
    try {
      const now = Date.now();
      if (now - this.lastAsked > this.idleStopMs) this.stop();
      else this.sample(now);
    } catch (err) {
      reportOnce('page history sample', err);
    }
  }

  private trackOf(series: Series): RouteTrack {
    const template = series.attributes[ATTR_ROUTE];
    const route = typeof template === 'string' ? template : UNMATCHED_ROUTE;
    let track = this.tracks.get(route);
    if (track === undefined) {
      track = new RouteTrack(route, series.duration.counts.length);
      this.tracks.set(route, track);
    }
    return track;
  }

  /** Read the store's cumulative totals; from the second sample on, record the increase as one interval. */
  sample(now = Date.now()): void {
    const all = this.store.allSeries;
    for (let i = this.seriesTrack.length; i < all.length; i++) {
      this.seriesTrack.push(this.trackOf(all[i]));
      this.seriesError.push(all[i].attributes[ATTR_ERROR_TYPE] !== undefined);
    }
    for (const t of this.tracks.values()) {
      t.curCount = 0;
      t.curErrors = 0;
      t.curBytes = 0;
      t.curBuckets.fill(0);
    }
    for (let i = 0; i < all.length; i++) {
      const s = all[i];
      const t = this.seriesTrack[i];
      const n = s.duration.count;
      t.curCount += n;
      if (this.seriesError[i]) t.curErrors += n;
      t.curBytes += s.requestSize.sum + s.responseSize.sum;
      const counts = s.duration.counts;
      for (let b = 0; b < counts.length; b++) t.curBuckets[b] += counts[b];
    }
    let active = 0;
    for (let i = 0; i < this.store.active.length; i++) active += this.store.active[i];
    const baseline = this.samples === 0;
    const seconds = (now - this.lastSample) / 1000;
    const at = this.next;
    const slot = (this.samples - 1) % SUMMARY_POINTS;
    for (const t of this.tracks.values()) {
      if (!baseline) {
        const requests = Math.max(0, t.curCount - t.count);
        const nb = t.buckets.length;
        const ring = t.bucketRing.subarray(slot * nb, slot * nb + nb);
        for (let b = 0; b < nb; b++) ring[b] = Math.max(0, t.curBuckets[b] - t.buckets[b]);
        t.rings.requests[at] = requests;
        t.rings.errors[at] = Math.max(0, t.curErrors - t.errors);
        t.rings.bytes[at] = Math.max(0, t.curBytes - t.bytes);
        const bounds = this.store.durationBuckets;
        t.rings.p50[at] = bucketQuantile(0.5, bounds, ring);
        t.rings.p95[at] = bucketQuantile(0.95, bounds, ring);
        t.rings.p99[at] = bucketQuantile(0.99, bounds, ring);
      }
      t.count = t.curCount;
      t.errors = t.curErrors;
      t.bytes = t.curBytes;
      t.buckets.set(t.curBuckets);
    }
    if (!baseline) {
      this.times[at] = now;
      this.seconds[at] = seconds;
      this.inFlight[at] = active;
      this.next = (at + 1) % HISTORY_POINTS;
    }
    this.samples++;
    this.lastSample = now;
  }

  /** The rings in time order, oldest first, as the data endpoint answers them. */
  data(): PageData {
    const points = Math.max(0, Math.min(this.samples - 1, HISTORY_POINTS));
    const order: number[] = [];
    for (let k = points; k > 0; k--) order.push((this.next - k + HISTORY_POINTS) % HISTORY_POINTS);
    const summaryN = Math.min(points, SUMMARY_POINTS);
    const recent = order.slice(order.length - summaryN);
    let summarySeconds = 0;
    for (const i of recent) summarySeconds += this.seconds[i];
    const bounds = this.store.durationBuckets;
    const routes: PageData['routes'] = [];
    for (const t of this.tracks.values()) {
      let any = false;
      for (const i of order) if (t.rings.requests[i] > 0) any = true;
      if (!any) continue;
      let requests = 0;
      let errors = 0;
      let bytes = 0;
      for (const i of recent) {
        requests += t.rings.requests[i];
        errors += t.rings.errors[i];
        bytes += t.rings.bytes[i];
      }
      // the bucket ring holds exactly the last SUMMARY_POINTS intervals (fewer right after the start)
      const nb = t.buckets.length;
      const sum = new Float64Array(nb);
      for (let k = 0; k < summaryN; k++) {
        for (let b = 0; b < nb; b++) sum[b] += t.bucketRing[k * nb + b];
      }
      const perSecond = (field: Field) => order.map((i) => orNull(t.rings[field][i] / this.seconds[i]));
      routes.push({
        route: t.route,
        summary: {
          requests,
          rate: summarySeconds > 0 ? requests / summarySeconds : 0,
          errorRatio: requests > 0 ? errors / requests : null,
          p50: orNull(bucketQuantile(0.5, bounds, sum)),
          p95: orNull(bucketQuantile(0.95, bounds, sum)),
          p99: orNull(bucketQuantile(0.99, bounds, sum)),
          bytesPerSecond: summarySeconds > 0 ? bytes / summarySeconds : 0,
        },
        points: {
          rate: perSecond('requests'),
          errorRatio: order.map((i) =>
            t.rings.requests[i] > 0 ? t.rings.errors[i] / t.rings.requests[i] : null,
          ),
          p50: order.map((i) => orNull(t.rings.p50[i])),
          p95: order.map((i) => orNull(t.rings.p95[i])),
          p99: order.map((i) => orNull(t.rings.p99[i])),
          bytesPerSecond: perSecond('bytes'),
        },
      });
    }
    routes.sort((a, b) => b.summary.rate - a.summary.rate || a.route.localeCompare(b.route));
    return {
      intervalSeconds: this.sampleMs / 1000,
      summarySeconds,
      times: order.map((i) => this.times[i]),
      inFlight: order.map((i) => orNull(this.inFlight[i])),
      routes,
    };
  }
}
