import type { Attributes, HrTime } from '@opentelemetry/api';
import type {
  DataPoint,
  Histogram,
  MetricData,
  ResourceMetrics,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, DataPointType } from './otel-enums.js';
import { reportOnce } from './report.js';

// Totals of several processes or threads summed into one: collected `ResourceMetrics` are turned into a compact,
// JSON-safe message (IPC, MessagePort, HTTP), and messages are summed data point by data point (same metric, same
// attributes): counters and histogram buckets/sum/count always, gauges summed or labelled per process.

/** A histogram point on the wire: boundaries, per-bucket counts, sum, count, min, max (null when empty). */
export type WireHistogram = [number[], number[], number, number, number | null, number | null];
/** kind: 'c' monotonic sum (counter), 'u' non-monotonic sum, 'g' gauge, 'h' histogram. */
export interface WireMetric {
  n: string;
  d: string;
  u: string;
  v: number;
  k: 'c' | 'u' | 'g' | 'h';
  /** earliest start time of the points, ms */
  t: number;
  p: Array<[Attributes, number | WireHistogram]>;
}
export interface WireScope {
  n: string;
  v?: string;
  m: WireMetric[];
}
/** The totals of one process (or the sum of several). */
export interface WireTotals {
  s: WireScope[];
}

const hrToMs = (t: HrTime): number => t[0] * 1000 + t[1] / 1e6;
const msToHr = (ms: number): HrTime => {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
};

/** Collected metric data as a compact message. Exponential histograms are left out (reported once). */
export function toWire(rm: ResourceMetrics): WireTotals {
  const scopes: WireScope[] = [];
  for (const sm of rm.scopeMetrics) {
    const metrics: WireMetric[] = [];
    for (const m of sm.metrics) {
      const w = metricToWire(m);
      if (w !== undefined) metrics.push(w);
    }
    scopes.push({ n: sm.scope.name, v: sm.scope.version, m: metrics });
  }
  return { s: scopes };
}

function metricToWire(m: MetricData): WireMetric | undefined {
  if (
    m.aggregationTemporality !== AggregationTemporality.CUMULATIVE &&
    m.dataPointType !== DataPointType.GAUGE
  ) {
    reportOnce(
      'aggregating ' + m.descriptor.name,
      new Error('only cumulative data can be summed across processes'),
    );
    return undefined;
  }
  let kind: WireMetric['k'];
  if (m.dataPointType === DataPointType.HISTOGRAM) kind = 'h';
  else if (m.dataPointType === DataPointType.SUM) kind = m.isMonotonic ? 'c' : 'u';
  else if (m.dataPointType === DataPointType.GAUGE) kind = 'g';
  else {
    reportOnce(
      'aggregating ' + m.descriptor.name,
      new Error('exponential histograms are not summed across processes'),
    );
    return undefined;
  }
  let start = Infinity;
  const points: WireMetric['p'] = new Array(m.dataPoints.length);
  for (let i = 0; i < m.dataPoints.length; i++) {
    const dp = m.dataPoints[i] as DataPoint<number | Histogram>;
    const t = hrToMs(dp.startTime);
    if (t < start) start = t;
    if (kind === 'h') {
      const h = dp.value as Histogram;
      points[i] = [
        dp.attributes,
        [h.buckets.boundaries, h.buckets.counts, h.sum ?? 0, h.count, h.min ?? null, h.max ?? null],
      ];
    } else {
      points[i] = [dp.attributes, dp.value as number];
    }
  }
  return {
    n: m.descriptor.name,
    d: m.descriptor.description,
    u: m.descriptor.unit,
    v: m.descriptor.valueType,
    k: kind,
    t: start === Infinity ? Date.now() : start,
    p: points,
  };
}

/** A stable key of an attribute set: the same attributes in any order give the same key. */
function attributesKey(a: Attributes): string {
  const keys = Object.keys(a);
  if (keys.length > 1) keys.sort();
  let out = '';
  for (const k of keys) out += JSON.stringify(k) + ':' + JSON.stringify(a[k]) + ',';
  return out;
}

export interface SumOptions {
  /** `'sum'`: gauges are summed like counters; `'label'`: each source keeps its points under `label` = its name. */
  gauges: 'sum' | 'label';
  /** The attribute that tells sources apart when gauges are labelled (default `worker`). */
  label?: string;
}

/** One source of totals: its name (the `worker` label value) and what it sent. */
export interface Source {
  name: string;
  totals: WireTotals;
  /** Only counters and histograms are taken (a dead process's retained totals: its gauges are gone with it). */
  monotonicOnly?: boolean;
  /** Never labelled, even with `gauges: 'label'` (the aggregator's own metrics). */
  unlabelled?: boolean;
}

/**
 * Sum the totals of several sources, metric by metric (by scope and name) and point by point (by attributes).
 * Histograms with different boundaries cannot be summed: the first source's boundaries win and the others' points
 * of that metric are left out (reported once).
 */
export function sumTotals(sources: readonly Source[], options: SumOptions): WireTotals {
  const label = options.label ?? 'worker';
  const scopes = new Map<
    string,
    { scope: WireScope; metrics: Map<string, { metric: WireMetric; points: Map<string, number> }> }
  >();
  for (const source of sources) {
    for (const ws of source.totals.s) {
      const scopeKey = ws.n + '@' + (ws.v ?? '');
      let scope = scopes.get(scopeKey);
      if (scope === undefined) {
        scope = { scope: { n: ws.n, v: ws.v, m: [] }, metrics: new Map() };
        scopes.set(scopeKey, scope);
      }
      for (const wm of ws.m) {
        if (source.monotonicOnly === true && wm.k !== 'c' && wm.k !== 'h') continue;
        let entry = scope.metrics.get(wm.n);
        if (entry === undefined) {
          entry = {
            metric: { n: wm.n, d: wm.d, u: wm.u, v: wm.v, k: wm.k, t: wm.t, p: [] },
            points: new Map(),
          };
          scope.metrics.set(wm.n, entry);
          scope.scope.m.push(entry.metric);
        } else if (entry.metric.k !== wm.k) {
          reportOnce('aggregating ' + wm.n, new Error(`${wm.n} has a different kind in another process`));
          continue;
        }
        const out = entry.metric;
        if (wm.t < out.t) out.t = wm.t;
        const labelled =
          options.gauges === 'label' && source.unlabelled !== true && (wm.k === 'g' || wm.k === 'u');
        for (const [attrs, value] of wm.p) {
          const a = labelled ? { ...attrs, [label]: source.name } : attrs;
          const key = attributesKey(a);
          const at = entry.points.get(key);
          if (at === undefined) {
            entry.points.set(key, out.p.length);
            out.p.push([a, typeof value === 'number' ? value : copyHistogram(value)]);
          } else if (typeof value === 'number') {
            out.p[at][1] = (out.p[at][1] as number) + value;
          } else {
            addHistogram(wm.n, out.p[at][1] as WireHistogram, value);
          }
        }
      }
    }
  }
  return { s: [...scopes.values()].map((s) => s.scope) };
}

function copyHistogram(h: WireHistogram): WireHistogram {
  return [h[0], h[1].slice(), h[2], h[3], h[4], h[5]];
}

function addHistogram(name: string, into: WireHistogram, h: WireHistogram): void {
  const a = into[0];
  const b = h[0];
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    reportOnce(
      'aggregating ' + name,
      new Error(`${name} has different bucket boundaries in another process`),
    );
    return;
  }
  for (let i = 0; i < h[1].length; i++) into[1][i] += h[1][i];
  into[2] += h[2];
  into[3] += h[3];
  if (h[4] !== null && (into[4] === null || h[4] < into[4])) into[4] = h[4];
  if (h[5] !== null && (into[5] === null || h[5] > into[5])) into[5] = h[5];
}

/** A counter (or histogram count) of `totals` by metric name and attributes (for tests and self-checks). */
export function totalOf(totals: WireTotals, name: string): number {
  let n = 0;
  for (const s of totals.s) {
    for (const m of s.m) {
      if (m.n !== name) continue;
      for (const [, v] of m.p) n += typeof v === 'number' ? v : v[3];
    }
  }
  return n;
}

/** Summed totals back as OpenTelemetry metric data, under `resource`, ready for the serializer or a reader. */
export function fromWire(totals: WireTotals, resource: ResourceMetrics['resource']): ResourceMetrics {
  const end = msToHr(Date.now());
  const scopeMetrics: ScopeMetrics[] = totals.s.map((ws) => ({
    scope: { name: ws.n, version: ws.v },
    metrics: ws.m.map((wm) => metricFromWire(wm, end)),
  }));
  return { resource, scopeMetrics } as ResourceMetrics;
}

function metricFromWire(wm: WireMetric, endTime: HrTime): MetricData {
  const startTime = msToHr(wm.t);
  const descriptor = { name: wm.n, description: wm.d, unit: wm.u, valueType: wm.v };
  if (wm.k === 'h') {
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: wm.p.map(([attributes, v]) => {
        const h = v as WireHistogram;
        return {
          attributes,
          startTime,
          endTime,
          value: {
            buckets: { boundaries: h[0], counts: h[1] },
            sum: h[2],
            count: h[3],
            min: h[4] ?? undefined,
            max: h[5] ?? undefined,
          },
        };
      }),
    } as MetricData;
  }
  const dataPoints = wm.p.map(([attributes, v]) => ({ attributes, startTime, endTime, value: v as number }));
  if (wm.k === 'g') {
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints,
    } as MetricData;
  }
  return {
    descriptor,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: wm.k === 'c',
    dataPoints,
  } as MetricData;
}
