import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ATTR_ERROR_TYPE,
  ATTR_IO_DIRECTION,
  ATTR_METHOD,
  ATTR_PROTOCOL_VERSION,
  ATTR_ROUTE,
  ATTR_SCHEME,
  ATTR_SERVER_PORT,
  ATTR_STATUS,
  ATTR_TRANSPORT,
  KNOWN_METHODS,
  OTHER_METHOD,
  ROUTE_OVERFLOW,
  SCOPE_NAME,
  SCOPE_VERSION,
} from './constants.js';
import { FixedHistogram } from './histogram.js';
import type { ExtraAttributes } from './attributes.js';

/** Index of each known method; anything else maps to OTHER_INDEX (`_OTHER`). */
export const METHOD_INDEX: Record<string, number> = Object.create(null);
KNOWN_METHODS.forEach((m, i) => (METHOD_INDEX[m] = i));
export const OTHER_INDEX = KNOWN_METHODS.length;
export const METHOD_NAMES: readonly string[] = [...KNOWN_METHODS, OTHER_METHOD];
const SCHEMES = ['http', 'https'] as const;
/** `network.protocol.version` values by index; index 3 means "unknown" (attribute omitted). */
export const PROTOCOL_INDEX: Record<string, number> = Object.assign(Object.create(null), {
  '1.0': 0,
  '1.1': 1,
  '2.0': 2,
});
const PROTOCOLS = ['1.0', '1.1', '2', undefined] as const;

export function hrTimeFromMs(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** One attribute set of the three request histograms. */
export class Series {
  readonly duration: FixedHistogram;
  readonly requestSize: FixedHistogram;
  readonly responseSize: FixedHistogram;
  readonly startTime: HrTime = hrTimeFromMs(Date.now());
  constructor(
    readonly attributes: Attributes,
    store: HttpStore,
  ) {
    this.duration = new FixedHistogram(store.durationBuckets);
    this.requestSize = new FixedHistogram(store.requestSizeBuckets);
    this.responseSize = new FixedHistogram(store.responseSizeBuckets);
  }
}

/** An interned `http.route` value (undefined template = no matched route). Adapters may cache it. */
export class RouteKey {
  /** series by numeric key (status, method, scheme, protocol) */
  readonly byKey = new Map<number, Series>();
  /** series with user attributes, by their key, error.type and numeric key */
  readonly byExtra = new Map<string, Series>();
  /** series with an error.type, by `errorType + ' ' + numeric key` */
  readonly byError = new Map<string, Series>();
  /** the series of the last successful request on this route: most requests repeat it, no map lookup */
  lastKey = -1;
  lastSeries: Series | undefined = undefined;
  constructor(readonly template: string | undefined) {}
}

/** Per listening port: live sockets, bytes of closed sockets, connection durations. */
export class PortGroup {
  readonly live = new Set<import('node:net').Socket>();
  closedRead = 0;
  closedWritten = 0;
  readonly connectionDuration: FixedHistogram;
  readonly startTime: HrTime = hrTimeFromMs(Date.now());
  readonly attributes: Attributes;
  readonly receiveAttributes: Attributes;
  readonly transmitAttributes: Attributes;
  constructor(port: number | undefined, transport: string, buckets: readonly number[]) {
    this.connectionDuration = new FixedHistogram(buckets);
    const base: Attributes = { [ATTR_TRANSPORT]: transport };
    if (port !== undefined) base[ATTR_SERVER_PORT] = port;
    this.attributes = Object.freeze(base);
    this.receiveAttributes = Object.freeze({ ...base, [ATTR_IO_DIRECTION]: 'receive' });
    this.transmitAttributes = Object.freeze({ ...base, [ATTR_IO_DIRECTION]: 'transmit' });
  }
}

export interface StoreOptions {
  durationBuckets: readonly number[];
  requestSizeBuckets: readonly number[];
  responseSizeBuckets: readonly number[];
  connectionDurationBuckets: readonly number[];
  maxRoutes: number;
  maxErrorTypes: number;
}

/**
 * Pre-aggregated HTTP and network metrics. Recording is a table lookup and typed-array increments; the
 * OpenTelemetry SDK sees the aggregates through the `MetricProducer` interface at collection time, so every
 * reader (the Prometheus handler, OTLP, ...) exports them with the user's own instruments.
 */
export class HttpStore implements MetricProducer {
  readonly durationBuckets: readonly number[];
  readonly requestSizeBuckets: readonly number[];
  readonly responseSizeBuckets: readonly number[];
  readonly connectionDurationBuckets: readonly number[];
  readonly maxRoutes: number;
  readonly maxErrorTypes: number;

  private readonly routes = new Map<string, RouteKey>();
  readonly noRoute = new RouteKey(undefined);
  readonly overflowRoute = new RouteKey(ROUTE_OVERFLOW);
  private readonly errorTypes = new Set<string>();
  /** requests whose route (or error type) was folded by the cardinality guard */
  routeOverflows = 0;
  errorTypeOverflows = 0;
  /** user attribute values folded by the `attributes` option's guard */
  attributeOverflows = 0;
  private overflowWarned = false;

  /** in-flight requests by method index * 2 + scheme index */
  readonly active = new Int32Array(METHOD_NAMES.length * 2);
  /** method/scheme pairs that have had a request: their in-flight series is exported (0 when idle) */
  readonly activeSeen = new Uint8Array(METHOD_NAMES.length * 2);
  private readonly activeAttributes: Attributes[] = [];
  private readonly startTime: HrTime = hrTimeFromMs(Date.now());

  readonly ports = new Map<string, PortGroup>();
  private readonly allSeries: Series[] = [];

  constructor(options: StoreOptions) {
    this.durationBuckets = options.durationBuckets;
    this.requestSizeBuckets = options.requestSizeBuckets;
    this.responseSizeBuckets = options.responseSizeBuckets;
    this.connectionDurationBuckets = options.connectionDurationBuckets;
    this.maxRoutes = options.maxRoutes;
    this.maxErrorTypes = options.maxErrorTypes;
    for (let m = 0; m < METHOD_NAMES.length; m++) {
      for (let s = 0; s < 2; s++) {
        this.activeAttributes[m * 2 + s] = Object.freeze({ [ATTR_METHOD]: METHOD_NAMES[m], [ATTR_SCHEME]: SCHEMES[s] });
      }
    }
  }

  /**
   * The interned key for a route template. Past `maxRoutes` distinct templates every new one folds into
   * `http.route="__overflow__"`: a bug that puts raw paths into templates cannot grow memory or series.
   */
  route(template: string | undefined): RouteKey {
    if (template === undefined) return this.noRoute;
    let key = this.routes.get(template);
    if (key !== undefined) return key;
    if (this.routes.size >= this.maxRoutes) {
      if (!this.overflowWarned) {
        this.overflowWarned = true;
        process.emitWarning(
          `meterline: more than ${this.maxRoutes} distinct http.route values; further routes are recorded as ` +
            `http.route="${ROUTE_OVERFLOW}" (raise maxRoutes if this service really has that many routes)`,
          { code: 'METERLINE_CARDINALITY' },
        );
      }
      return this.overflowRoute;
    }
    key = new RouteKey(template);
    this.routes.set(template, key);
    return key;
  }

  /** The series for one finished request; created on first sight with frozen attributes. */
  series(
    route: RouteKey,
    method: number,
    scheme: number,
    protocol: number,
    status: number,
    errorType: string | undefined,
  ): Series {
    if (route === this.overflowRoute) this.routeOverflows++;
    const key = ((status * 16 + method) * 2 + scheme) * 4 + protocol;
    if (errorType === undefined) {
      if (route.lastKey === key) return route.lastSeries as Series;
      let s = route.byKey.get(key);
      if (s === undefined) {
        s = this.newSeries(route, method, scheme, protocol, status, undefined);
        route.byKey.set(key, s);
      }
      route.lastKey = key;
      route.lastSeries = s;
      return s;
    }
    errorType = this.capErrorType(errorType);
    const ekey = errorType + ' ' + key;
    let s = route.byError.get(ekey);
    if (s === undefined) {
      s = this.newSeries(route, method, scheme, protocol, status, errorType);
      route.byError.set(ekey, s);
    }
    return s;
  }

  /** The error type itself, or `_OTHER` once `maxErrorTypes` distinct ones have been seen. */
  private capErrorType(errorType: string): string {
    if (this.errorTypes.has(errorType)) return errorType;
    if (this.errorTypes.size >= this.maxErrorTypes) {
      this.errorTypeOverflows++;
      return OTHER_METHOD;
    }
    this.errorTypes.add(errorType);
    return errorType;
  }

  /** As `series()`, for requests with user attributes (the `attributes` option; already validated and capped). */
  seriesWithExtra(
    route: RouteKey,
    method: number,
    scheme: number,
    protocol: number,
    status: number,
    errorType: string | undefined,
    extra: ExtraAttributes,
  ): Series {
    if (route === this.overflowRoute) this.routeOverflows++;
    if (errorType !== undefined) errorType = this.capErrorType(errorType);
    const key = extra.key + (errorType ?? '') + ' ' + (((status * 16 + method) * 2 + scheme) * 4 + protocol);
    let s = route.byExtra.get(key);
    if (s === undefined) {
      s = this.newSeries(route, method, scheme, protocol, status, errorType, extra);
      route.byExtra.set(key, s);
    }
    return s;
  }

  private newSeries(
    route: RouteKey,
    method: number,
    scheme: number,
    protocol: number,
    status: number,
    errorType: string | undefined,
    extra?: ExtraAttributes,
  ): Series {
    const attrs: Attributes = { [ATTR_METHOD]: METHOD_NAMES[method] };
    if (route.template !== undefined) attrs[ATTR_ROUTE] = route.template;
    if (status !== 0) attrs[ATTR_STATUS] = status;
    attrs[ATTR_SCHEME] = SCHEMES[scheme];
    const proto = PROTOCOLS[protocol];
    if (proto !== undefined) attrs[ATTR_PROTOCOL_VERSION] = proto;
    if (errorType !== undefined) attrs[ATTR_ERROR_TYPE] = errorType;
    if (extra !== undefined) Object.assign(attrs, extra.attrs);
    const s = new Series(Object.freeze(attrs), this);
    this.allSeries.push(s);
    return s;
  }

  portGroup(port: number | undefined, transport: string): PortGroup {
    const id = transport + ':' + (port ?? '');
    let g = this.ports.get(id);
    if (g === undefined) {
      g = new PortGroup(port, transport, this.connectionDurationBuckets);
      this.ports.set(id, g);
    }
    return g;
  }

  /** Number of request series (for tests and the cardinality check). */
  get seriesCount(): number {
    return this.allSeries.length;
  }

  /** Everything recorded, as OpenTelemetry metric data (cumulative). */
  collectScope(): ScopeMetrics {
    const endTime = hrTimeFromMs(Date.now());
    const all = this.allSeries;
    const duration: DataPoint<Histogram>[] = new Array(all.length);
    const reqSize: DataPoint<Histogram>[] = new Array(all.length);
    const resSize: DataPoint<Histogram>[] = new Array(all.length);
    for (let i = 0; i < all.length; i++) {
      const s = all[i];
      duration[i] = { attributes: s.attributes, startTime: s.startTime, endTime, value: s.duration.toPoint() };
      reqSize[i] = { attributes: s.attributes, startTime: s.startTime, endTime, value: s.requestSize.toPoint() };
      resSize[i] = { attributes: s.attributes, startTime: s.startTime, endTime, value: s.responseSize.toPoint() };
    }
    const active: DataPoint<number>[] = [];
    for (let i = 0; i < this.active.length; i++) {
      if (this.active[i] !== 0) this.activeSeen[i] = 1;
      if (this.activeSeen[i] === 1) {
        active.push({ attributes: this.activeAttributes[i], startTime: this.startTime, endTime, value: this.active[i] });
      }
    }
    const io: DataPoint<number>[] = [];
    const conns: DataPoint<number>[] = [];
    const connDuration: DataPoint<Histogram>[] = [];
    for (const g of this.ports.values()) {
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
      histogram('http.server.request.duration', 's', 'Duration of HTTP server requests.', duration),
      sum('http.server.active_requests', '{request}', 'Number of active HTTP server requests.', active, false),
      histogram('http.server.request.body.size', 'By', 'Size of HTTP server request bodies.', reqSize),
      histogram('http.server.response.body.size', 'By', 'Size of HTTP server response bodies.', resSize),
    ];
    if (this.ports.size > 0) {
      metrics.push(
        sum('network.server.io', 'By', 'Bytes received and sent on server connections.', io, true),
        sum('network.server.active_connections', '{connection}', 'Number of open server connections.', conns, false),
        histogram('network.server.connection.duration', 's', 'Duration of server connections.', connDuration),
      );
    }
    metrics.push(
      sum(
        'meterline.cardinality.overflow',
        '{request}',
        'Requests whose attribute value was folded into an overflow value by the cardinality guard.',
        [
          {
            attributes: OVERFLOW_ROUTE_ATTRS,
            startTime: this.startTime,
            endTime,
            value: this.routeOverflows,
          },
          {
            attributes: OVERFLOW_USER_ATTRS,
            startTime: this.startTime,
            endTime,
            value: this.attributeOverflows,
          },
          {
            attributes: OVERFLOW_ERROR_ATTRS,
            startTime: this.startTime,
            endTime,
            value: this.errorTypeOverflows,
          },
        ],
        true,
      ),
    );
    return { scope: { name: SCOPE_NAME, version: SCOPE_VERSION }, metrics };
  }

  /** `MetricProducer`: lets any OpenTelemetry MetricReader export the aggregates. */
  async collect(): Promise<CollectionResult> {
    return {
      resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics: [this.collectScope()] },
      errors: [],
    };
  }
}

const EMPTY_RESOURCE = resourceFromAttributes({});
const OVERFLOW_ROUTE_ATTRS: Attributes = Object.freeze({ attribute: ATTR_ROUTE });
const OVERFLOW_ERROR_ATTRS: Attributes = Object.freeze({ attribute: ATTR_ERROR_TYPE });
const OVERFLOW_USER_ATTRS: Attributes = Object.freeze({ attribute: 'attributes' });

function histogram(name: string, unit: string, description: string, dataPoints: DataPoint<Histogram>[]): MetricData {
  return {
    descriptor: { name, unit, description, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints,
  };
}

function sum(
  name: string,
  unit: string,
  description: string,
  dataPoints: DataPoint<number>[],
  isMonotonic: boolean,
): MetricData {
  return {
    descriptor: { name, unit, description, valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    dataPoints,
    isMonotonic,
  };
}
