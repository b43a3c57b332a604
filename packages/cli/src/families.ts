import type { Bucket } from './red-math.js';
import type { Sample } from './exposition.js';

// Which metric families `top` reads, and how their labels map to route, method, status and error: the HTTP
// semantic-convention names (meterline, OpenTelemetry's Prometheus exporters) and the classic
// `http_request_duration_seconds` family of express-prom-bundle, fastify-metrics and prom-client setups.

export interface Family {
  /** shown in the header: which naming the target uses */
  name: 'semconv' | 'classic';
  duration: string;
  route: readonly string[];
  method: readonly string[];
  status: readonly string[];
  /** a non-empty value of this label marks an error regardless of status */
  errorType?: string;
  /** `_sum` of these histograms: body bytes per route */
  bodySizes: readonly string[];
  /** gauges of requests in flight (no route label: per target) */
  inFlight: readonly string[];
  /** counters of bytes on the wire (per target) */
  networkBytes: readonly string[];
}

export const FAMILIES: readonly Family[] = [
  {
    name: 'semconv',
    duration: 'http_server_request_duration_seconds',
    route: ['http_route'],
    method: ['http_request_method'],
    status: ['http_response_status_code'],
    errorType: 'error_type',
    bodySizes: ['http_server_request_body_size_bytes', 'http_server_response_body_size_bytes'],
    inFlight: ['http_server_active_requests'],
    networkBytes: ['network_server_io_bytes_total'],
  },
  {
    name: 'classic',
    duration: 'http_request_duration_seconds',
    // express-prom-bundle labels the path `path`; fastify-metrics and most prom-client setups `route`
    route: ['route', 'path', 'handler'],
    method: ['method'],
    status: ['status_code', 'code', 'status'],
    bodySizes: ['http_request_size_bytes', 'http_response_size_bytes'],
    inFlight: ['http_requests_in_flight', 'http_requests_in_progress'],
    networkBytes: [],
  },
];

/** Route shown for requests without a route label (unmatched requests). */
export const NO_ROUTE = '(unmatched)';

export interface HistogramSeries {
  route: string;
  method: string;
  error: boolean;
  buckets: Bucket[];
}

/** What one scrape of one target says, keyed by each series' full label set (resets are per series). */
export interface TargetSnapshot {
  /** ms since the epoch when the scrape started */
  time: number;
  family: Family | undefined;
  histograms: Map<string, HistogramSeries>;
  /** `_sum` of the body size histograms, by series */
  bodyBytes: Map<string, { route: string; method: string; value: number }>;
  inFlight: number | undefined;
  /** by series (receive and transmit), to take each one's increase */
  networkBytes: Map<string, number>;
}

const first = (labels: Record<string, string>, names: readonly string[]): string | undefined => {
  for (const n of names) if (labels[n] !== undefined) return labels[n];
  return undefined;
};

/** A stable key for a label set (without `le`). */
function seriesKey(name: string, labels: Record<string, string>): string {
  return (
    name +
    '{' +
    Object.keys(labels)
      .filter((k) => k !== 'le')
      .sort()
      .map((k) => `${k}=${JSON.stringify(labels[k])}`)
      .join(',') +
    '}'
  );
}

/** The family a scrape uses: the first whose duration buckets appear. */
export function detectFamily(samples: readonly Sample[]): Family | undefined {
  for (const f of FAMILIES) if (samples.some((s) => s.name === f.duration + '_bucket')) return f;
  return undefined;
}

export function snapshot(samples: readonly Sample[], time: number): TargetSnapshot {
  const family = detectFamily(samples);
  const snap: TargetSnapshot = {
    time,
    family,
    histograms: new Map(),
    bodyBytes: new Map(),
    inFlight: undefined,
    networkBytes: new Map(),
  };
  if (family === undefined) return snap;
  const bucketName = family.duration + '_bucket';
  const sizeSums = new Set(family.bodySizes.map((n) => n + '_sum'));
  const inFlight = new Set(family.inFlight);
  const network = new Set(family.networkBytes);
  for (const s of samples) {
    if (s.name === bucketName) {
      const le = s.labels.le === undefined ? NaN : s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (Number.isNaN(le)) continue;
      const key = seriesKey(family.duration, s.labels);
      let h = snap.histograms.get(key);
      if (h === undefined) {
        const status = Number(first(s.labels, family.status) ?? 0);
        const errorType = family.errorType === undefined ? undefined : s.labels[family.errorType];
        h = {
          route: first(s.labels, family.route) ?? NO_ROUTE,
          method: first(s.labels, family.method) ?? '',
          error: (errorType !== undefined && errorType !== '') || status >= 500,
          buckets: [],
        };
        snap.histograms.set(key, h);
      }
      h.buckets.push({ le, count: s.value });
    } else if (sizeSums.has(s.name)) {
      snap.bodyBytes.set(seriesKey(s.name, s.labels), {
        route: first(s.labels, family.route) ?? NO_ROUTE,
        method: first(s.labels, family.method) ?? '',
        value: s.value,
      });
    } else if (inFlight.has(s.name)) {
      snap.inFlight = (snap.inFlight ?? 0) + s.value;
    } else if (network.has(s.name)) {
      snap.networkBytes.set(seriesKey(s.name, s.labels), s.value);
    }
  }
  return snap;
}
