import type { Attributes, HrTime } from '@opentelemetry/api';
import type {
  CollectionResult,
  DataPoint,
  Histogram,
  MetricData,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { sdkResources } from './otel-sdk.js';
import { OVERFLOW_LABELS } from './cardinality.js';
import { ATTR_METHOD, SCOPE_NAME, SCOPE_VERSION } from './constants.js';
import { HTTP_METRICS, METHOD_NAMES } from './http-metrics.js';
import { metricData } from './metric-definition.js';
import { hrTimeFromMs } from './series.js';
import type { HttpStore } from './store.js';

const OVERFLOW_ROUTE_ATTRS: Attributes = Object.freeze({ attribute: OVERFLOW_LABELS.route });
const OVERFLOW_ERROR_ATTRS: Attributes = Object.freeze({ attribute: OVERFLOW_LABELS.errorType });
const OVERFLOW_USER_ATTRS: Attributes = Object.freeze({ attribute: OVERFLOW_LABELS.attributes });

/** The store's aggregates as OpenTelemetry metric data (cumulative), one scope. */
export function collectScope(store: HttpStore): ScopeMetrics {
  const endTime = hrTimeFromMs(Date.now());
  const all = store.allSeries;
  const duration: DataPoint<Histogram>[] = new Array(all.length);
  const reqSize: DataPoint<Histogram>[] = new Array(all.length);
  const ttfb: DataPoint<Histogram>[] = [];
  const resSize: DataPoint<Histogram>[] = new Array(all.length);
  for (let i = 0; i < all.length; i++) {
    const s = all[i];
    duration[i] = { attributes: s.attributes, startTime: s.startTime, endTime, value: s.duration.toPoint() };
    reqSize[i] = {
      attributes: s.attributes,
      startTime: s.startTime,
      endTime,
      value: s.requestSize.toPoint(),
    };
    resSize[i] = {
      attributes: s.attributes,
      startTime: s.startTime,
      endTime,
      value: s.responseSize.toPoint(),
    };
    if (s.timeToFirstByte !== undefined) {
      ttfb.push({
        attributes: s.attributes,
        startTime: s.startTime,
        endTime,
        value: s.timeToFirstByte.toPoint(),
      });
    }
  }
  const active: DataPoint<number>[] = [];
  for (let i = 0; i < store.active.length; i++) {
    if (store.active[i] !== 0) store.activeSeen[i] = 1;
    if (store.activeSeen[i] === 1) {
      active.push({
        attributes: store.activeAttributes[i],
        startTime: store.startTime,
        endTime,
        value: store.active[i],
      });
    }
  }
  const io: DataPoint<number>[] = [];
  const conns: DataPoint<number>[] = [];
  const connDuration: DataPoint<Histogram>[] = [];
  for (const g of store.ports.values()) {
    let read = g.closedRead;
    let written = g.closedWritten;
    for (const socket of g.live) {
      read += socket.bytesRead;
      written += socket.bytesWritten;
    }
    io.push({ attributes: g.receiveAttributes, startTime: g.startTime, endTime, value: read });
    io.push({ attributes: g.transmitAttributes, startTime: g.startTime, endTime, value: written });
    conns.push({ attributes: g.attributes, startTime: g.startTime, endTime, value: g.live.size });
    connDuration.push({
      attributes: g.attributes,
      startTime: g.startTime,
      endTime,
      value: g.connectionDuration.toPoint(),
    });
  }
  const metrics: MetricData[] = [
    metricData(HTTP_METRICS.duration, 'histogram', duration),
    metricData(HTTP_METRICS.activeRequests, 'upDownCounter', active),
    metricData(HTTP_METRICS.requestSize, 'histogram', reqSize),
    metricData(HTTP_METRICS.responseSize, 'histogram', resSize),
  ];
  if (store.timeToFirstByte) metrics.push(metricData(HTTP_METRICS.timeToFirstByte, 'histogram', ttfb));
  const upgrades = upgradePoints(store.upgrades, store.startTime, endTime);
  if (upgrades.length > 0) metrics.push(metricData(HTTP_METRICS.upgrades, 'counter', upgrades));
  if (store.ports.size > 0) {
    metrics.push(
      metricData(HTTP_METRICS.networkIo, 'counter', io),
      metricData(HTTP_METRICS.activeConnections, 'upDownCounter', conns),
      metricData(HTTP_METRICS.connectionDuration, 'histogram', connDuration),
    );
  }
  const overflows = store.overflows;
  const start = store.startTime;
  metrics.push(
    metricData(HTTP_METRICS.cardinalityOverflow, 'counter', [
      { attributes: OVERFLOW_ROUTE_ATTRS, startTime: start, endTime, value: overflows.route },
      { attributes: OVERFLOW_USER_ATTRS, startTime: start, endTime, value: overflows.attributes },
      { attributes: OVERFLOW_ERROR_ATTRS, startTime: start, endTime, value: overflows.errorType },
    ]),
  );
  metrics.push(...store.self.metricData(endTime));
  return { scope: { name: SCOPE_NAME, version: SCOPE_VERSION }, metrics };
}

/** Upgrade counts by method, one frozen attribute set per method. */
const UPGRADE_ATTRS: readonly Attributes[] = METHOD_NAMES.map((m) => Object.freeze({ [ATTR_METHOD]: m }));

function upgradePoints(counts: Float64Array, startTime: HrTime, endTime: HrTime): DataPoint<number>[] {
  const out: DataPoint<number>[] = [];
  for (let m = 0; m < counts.length; m++) {
    if (counts[m] > 0) out.push({ attributes: UPGRADE_ATTRS[m], startTime, endTime, value: counts[m] });
  }
  return out;
}

let emptyResource: Resource | undefined;

/** A scope in the shape a `MetricProducer` returns. */
export function producerResult(scope: ScopeMetrics): CollectionResult {
  emptyResource ??= sdkResources().resourceFromAttributes({});
  return { resourceMetrics: { resource: emptyResource, scopeMetrics: [scope] }, errors: [] };
}
