import type { TargetSnapshot } from './families.js';
import { bucketsIncrease, counterIncrease, histogramQuantile, sumBuckets, type Bucket } from './red-math.js';

// From two scrapes of a target to one row per (method, route): rates over the time between the scrapes,
// increases taken per series (so a reset or a new series of one status code is handled on its own) and then
// summed, as `sum by (route, method) (rate(...))` would.

export interface RouteRow {
  target: string;
  method: string;
  route: string;
  /** requests between the two scrapes */
  requests: number;
  rate: number;
  /** errors / requests (NaN without requests) */
  errorRatio: number;
  p50: number;
  p95: number;
  p99: number;
  /** request + response body bytes per second (undefined if the target exports no body sizes) */
  bytesRate: number | undefined;
}

export interface TargetSummary {
  target: string;
  rate: number;
  errorRatio: number;
  inFlight: number | undefined;
  /** bytes per second on the wire, both directions (undefined if not exported) */
  networkRate: number | undefined;
}

export function routeRows(target: string, prev: TargetSnapshot, cur: TargetSnapshot): RouteRow[] {
  const seconds = (cur.time - prev.time) / 1000;
  if (!(seconds > 0)) return [];
  const groups = new Map<
    string,
    { method: string; route: string; requests: number; errors: number; buckets: Bucket[][]; bytes?: number }
  >();
  const group = (method: string, route: string) => {
    const key = method + ' ' + route;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { method, route, requests: 0, errors: 0, buckets: [] }));
    return g;
  };
  for (const [key, h] of cur.histograms) {
    const inc = bucketsIncrease(prev.histograms.get(key)?.buckets, h.buckets);
    const requests = inc.find((b) => b.le === Infinity)?.count ?? 0;
    const g = group(h.method, h.route);
    g.requests += requests;
    if (h.error) g.errors += requests;
    g.buckets.push(inc);
  }
  for (const [key, b] of cur.bodyBytes) {
    const g = group(b.method, b.route);
    g.bytes = (g.bytes ?? 0) + counterIncrease(prev.bodyBytes.get(key)?.value, b.value);
  }
  const rows: RouteRow[] = [];
  for (const g of groups.values()) {
    const buckets = sumBuckets(g.buckets);
    rows.push({
      target,
      method: g.method,
      route: g.route,
      requests: g.requests,
      rate: g.requests / seconds,
      errorRatio: g.requests > 0 ? g.errors / g.requests : NaN,
      p50: histogramQuantile(0.5, buckets),
      p95: histogramQuantile(0.95, buckets),
      p99: histogramQuantile(0.99, buckets),
      bytesRate: g.bytes === undefined ? undefined : g.bytes / seconds,
    });
  }
  return rows;
}

export function targetSummary(
  target: string,
  rows: readonly RouteRow[],
  prev: TargetSnapshot,
  cur: TargetSnapshot,
): TargetSummary {
  const seconds = (cur.time - prev.time) / 1000;
  let requests = 0;
  let errors = 0;
  for (const r of rows) {
    requests += r.requests;
    if (r.requests > 0) errors += r.errorRatio * r.requests;
  }
  let network: number | undefined;
  for (const [key, value] of cur.networkBytes)
    network = (network ?? 0) + counterIncrease(prev.networkBytes.get(key), value);
  return {
    target,
    rate: seconds > 0 ? requests / seconds : 0,
    errorRatio: requests > 0 ? errors / requests : NaN,
    inFlight: cur.inFlight,
    networkRate: network === undefined || !(seconds > 0) ? undefined : network / seconds,
  };
}

export const SORT_KEYS = ['rate', 'errors', 'p50', 'p95', 'p99', 'bytes', 'route'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const sortValue = (r: RouteRow, key: SortKey): number => {
  const v =
    key === 'rate'
      ? r.rate
      : key === 'errors'
        ? r.errorRatio
        : key === 'p50'
          ? r.p50
          : key === 'p95'
            ? r.p95
            : key === 'p99'
              ? r.p99
              : (r.bytesRate ?? NaN);
  return Number.isNaN(v) ? -Infinity : v;
};

/** Rows sorted by `key`: numbers highest first, routes A to Z; ties by route. `reverse` flips it. */
export function sortRows(rows: readonly RouteRow[], key: SortKey, reverse = false): RouteRow[] {
  const byRoute = (a: RouteRow, b: RouteRow) =>
    a.route.localeCompare(b.route) || a.method.localeCompare(b.method) || a.target.localeCompare(b.target);
  const sorted = [...rows].sort(
    (a, b) => (key === 'route' ? 0 : sortValue(b, key) - sortValue(a, key)) || byRoute(a, b),
  );
  return reverse ? sorted.reverse() : sorted;
}

/** The regular expression of a `/re/flags` filter (undefined for a substring); throws if it does not compile. */
export function filterPattern(text: string): RegExp | undefined {
  const re = /^\/(.+)\/([a-z]*)$/.exec(text);
  return re === null ? undefined : new RegExp(re[1], re[2].replace('g', ''));
}

/**
 * A filter from its text: `/re/` (optionally `/re/i`) is a regular expression, anything else a case-insensitive
 * substring; both are tested against `METHOD route` and the target.
 */
export function rowFilter(text: string | undefined): (r: RouteRow) => boolean {
  if (text === undefined || text === '') return () => true;
  let pattern: RegExp | undefined;
  try {
    pattern = filterPattern(text);
  } catch {
    pattern = undefined; // typed live and not (yet) a valid expression: a substring meanwhile
  }
  if (pattern !== undefined) return (r) => pattern.test(`${r.method} ${r.route}`) || pattern.test(r.target);
  const needle = text.toLowerCase();
  return (r) =>
    `${r.method} ${r.route}`.toLowerCase().includes(needle) || r.target.toLowerCase().includes(needle);
}
