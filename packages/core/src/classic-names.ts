import type { Attributes, HrTime } from '@opentelemetry/api';
import type { DataPoint, Histogram, MetricData, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { ATTR_METHOD, ATTR_ROUTE, ATTR_STATUS, REQUEST_ATTRIBUTES } from './constants.js';
import { HTTP_METRICS, METHOD_NAMES } from './http-metrics.js';
import { metricData, type MetricDefinition } from './metric-definition.js';
import type { Series } from './series.js';
import type { ClassicLabels } from './types.js';

// `naming: 'classic'`: the request metrics under the names and labels that prom-client-era dashboards query
// (express-prom-bundle, fastify-metrics, hand-written prom-client middleware). A view of the same aggregates,
// computed at collection time: series that differ only in labels the classic shape has no room for (url.scheme,
// network.protocol.version, error.type) are summed into one.

/** A classic metric, and the OpenTelemetry metric whose aggregates it shows (and replaces). */
interface ClassicMetric extends MetricDefinition {
  readonly of: MetricDefinition;
}

export const CLASSIC_METRICS = Object.freeze({
  duration: {
    of: HTTP_METRICS.duration,
    name: 'http_request_duration_seconds',
    unit: 's',
    description: 'Duration of HTTP requests in seconds.',
  },
  requests: {
    of: HTTP_METRICS.duration,
    name: 'http_requests_total',
    unit: '',
    description: 'Total number of HTTP requests.',
  },
  inFlight: {
    of: HTTP_METRICS.activeRequests,
    name: 'http_requests_in_flight',
    unit: '',
    description: 'Number of HTTP requests being served.',
  },
  requestSize: {
    of: HTTP_METRICS.requestSize,
    name: 'http_request_size_bytes',
    unit: 'By',
    description: 'Size of HTTP request bodies in bytes.',
  },
  responseSize: {
    of: HTTP_METRICS.responseSize,
    name: 'http_response_size_bytes',
    unit: 'By',
    description: 'Size of HTTP response bodies in bytes.',
  },
  timeToFirstByte: {
    of: HTTP_METRICS.timeToFirstByte,
    name: 'http_request_time_to_first_byte_seconds',
    unit: 's',
    description: 'Time from the start of HTTP requests to their response head being written, in seconds.',
  },
} as const satisfies Record<string, ClassicMetric>);

/** The Prometheus family names classic naming serves (for name-clash checks). */
export const CLASSIC_FAMILY_NAMES: readonly string[] = Object.freeze(
  Object.values(CLASSIC_METRICS).map((m) => m.name),
);

/** The OpenTelemetry metrics that classic naming replaces. */
const REPLACED: ReadonlySet<string> = new Set(Object.values(CLASSIC_METRICS).map((m) => m.of.name));

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface ClassicNaming {
  readonly method: string;
  readonly route: string;
  readonly status: string;
  /** classic label set by the attributes object of one of our series (computed once per series) */
  readonly bySeries: WeakMap<Attributes, Attributes>;
  /** interned classic label sets: the serialiser caches rendered labels by object identity */
  readonly interned: Map<string, Attributes>;
  /** in-flight label sets by method index */
  readonly inFlightAttributes: readonly Attributes[];
}

/** Checked label names; throws naming the option. */
export function classicNaming(
  labels: ClassicLabels | undefined,
  fail: (why: string) => never,
): ClassicNaming {
  const names = { method: 'method', route: 'route', status: 'status_code', ...(labels ?? {}) };
  for (const key of Object.keys(names)) {
    if (key !== 'method' && key !== 'route' && key !== 'status')
      fail(`unknown key "${key}" (method, route, status)`);
    const value = (names as Record<string, unknown>)[key];
    if (typeof value !== 'string' || !LABEL_NAME.test(value) || value.startsWith('__') || value === 'le') {
      fail(`${key}: expected a Prometheus label name, got ${JSON.stringify(value)}`);
    }
  }
  if (new Set([names.method, names.route, names.status]).size !== 3)
    fail('the three label names must differ');
  return {
    method: names.method,
    route: names.route,
    status: names.status,
    bySeries: new WeakMap(),
    interned: new Map(),
    inFlightAttributes: METHOD_NAMES.map((m) => Object.freeze({ [names.method]: m })),
  };
}

/** The classic label set of one of our series: method, route, status and the user's own attributes. */
function classicAttributes(naming: ClassicNaming, attributes: Attributes): Attributes {
  let out = naming.bySeries.get(attributes);
  if (out !== undefined) return out;
  const built: Attributes = { [naming.method]: attributes[ATTR_METHOD] };
  if (attributes[ATTR_ROUTE] !== undefined) built[naming.route] = attributes[ATTR_ROUTE];
  if (attributes[ATTR_STATUS] !== undefined) built[naming.status] = attributes[ATTR_STATUS];
  for (const key of Object.keys(attributes)) {
    if (!REQUEST_ATTRIBUTES.includes(key)) built[key] = attributes[key];
  }
  const id = JSON.stringify(built);
  out = naming.interned.get(id);
  if (out === undefined) {
    out = Object.freeze(built);
    naming.interned.set(id, out);
  }
  naming.bySeries.set(attributes, out);
  return out;
}

function addInto(into: Histogram, from: Histogram): void {
  const a = into.buckets.counts;
  const b = from.buckets.counts;
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  into.sum = (into.sum ?? 0) + (from.sum ?? 0);
  into.count += from.count;
  if (from.min !== undefined && (into.min === undefined || from.min < into.min)) into.min = from.min;
  if (from.max !== undefined && (into.max === undefined || from.max > into.max)) into.max = from.max;
}

type HistogramOf = (s: Series) => { toPoint(): Histogram } | undefined;

/** One classic histogram: the series' points summed by classic label set. */
function mergedHistogram(
  naming: ClassicNaming,
  all: readonly Series[],
  of: HistogramOf,
  endTime: DataPoint<Histogram>['endTime'],
): DataPoint<Histogram>[] {
  // the earliest start of the merged series: a classic series is as old as its oldest part
  const merged = new Map<Attributes, { startTime: HrTime; value: Histogram }>();
  for (const s of all) {
    const h = of(s);
    if (h === undefined) continue;
    const attributes = classicAttributes(naming, s.attributes);
    const point = h.toPoint();
    const existing = merged.get(attributes);
    if (existing === undefined) {
      merged.set(attributes, { startTime: s.startTime, value: point });
    } else {
      addInto(existing.value, point);
      if (s.startTime[0] < existing.startTime[0]) existing.startTime = s.startTime;
    }
  }
  const out: DataPoint<Histogram>[] = [];
  for (const [attributes, p] of merged)
    out.push({ attributes, startTime: p.startTime, endTime, value: p.value });
  return out;
}

/**
 * Replace the OpenTelemetry-named request metrics of `scope` by their classic view. `all`: the store's series;
 * `active`: in-flight requests by method index * 2 + scheme index, `activeSeen` the pairs seen.
 */
export function classicScope(
  scope: ScopeMetrics,
  naming: ClassicNaming,
  all: readonly Series[],
  active: Int32Array,
  activeSeen: Uint8Array,
): ScopeMetrics {
  const template = scope.metrics.find((m) => m.descriptor.name === HTTP_METRICS.duration.name);
  if (template === undefined) return scope;
  const endTime =
    template.dataPoints.length > 0 ? template.dataPoints[0].endTime : ([0, 0] as [number, number]);
  const startTime = (scope.metrics.find((m) => m.descriptor.name === HTTP_METRICS.activeRequests.name)
    ?.dataPoints[0]?.startTime ?? endTime) as [number, number];
  const duration = mergedHistogram(naming, all, (s) => s.duration, endTime);
  const requests: DataPoint<number>[] = duration.map((p) => ({
    attributes: p.attributes,
    startTime: p.startTime,
    endTime,
    value: p.value.count,
  }));
  const inFlight: DataPoint<number>[] = [];
  for (let m = 0; m < METHOD_NAMES.length; m++) {
    if (activeSeen[m * 2] === 0 && activeSeen[m * 2 + 1] === 0) continue;
    inFlight.push({
      attributes: naming.inFlightAttributes[m],
      startTime,
      endTime,
      value: active[m * 2] + active[m * 2 + 1],
    });
  }
  const metrics: MetricData[] = [
    metricData(CLASSIC_METRICS.duration, 'histogram', duration, template),
    metricData(CLASSIC_METRICS.requests, 'counter', requests, template),
    metricData(CLASSIC_METRICS.inFlight, 'upDownCounter', inFlight, template),
    metricData(
      CLASSIC_METRICS.requestSize,
      'histogram',
      mergedHistogram(naming, all, (s) => s.requestSize, endTime),
      template,
    ),
    metricData(
      CLASSIC_METRICS.responseSize,
      'histogram',
      mergedHistogram(naming, all, (s) => s.responseSize, endTime),
      template,
    ),
  ];
  if (scope.metrics.some((m) => m.descriptor.name === HTTP_METRICS.timeToFirstByte.name)) {
    const ttfb = mergedHistogram(naming, all, (s) => s.timeToFirstByte, endTime);
    metrics.push(metricData(CLASSIC_METRICS.timeToFirstByte, 'histogram', ttfb, template));
  }
  for (const m of scope.metrics) if (!REPLACED.has(m.descriptor.name)) metrics.push(m);
  return { scope: scope.scope, metrics };
}
