import type { Attributes } from '@opentelemetry/api';
import type { CollectionResult, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { ExtraAttributes } from './attributes.js';
import { ErrorTypeCap, OverflowCounts, RouteCap } from './cardinality.js';
import { classicScope, type ClassicNaming } from './classic-names.js';
import { collectScope, producerResult } from './collect.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_METHOD,
  ATTR_PROTOCOL_VERSION,
  ATTR_ROUTE,
  ATTR_SCHEME,
  ATTR_STATUS,
} from './constants.js';
import { METHOD_NAMES, PROTOCOLS, SCHEMES } from './http-metrics.js';
import { SelfMetrics } from './self-metrics.js';
import { hrTimeFromMs, PortGroup, Series, type NativeSettings, type RouteKey } from './series.js';

export interface StoreOptions {
  durationBuckets: readonly number[];
  requestSizeBuckets: readonly number[];
  responseSizeBuckets: readonly number[];
  connectionDurationBuckets: readonly number[];
  maxRoutes: number;
  maxErrorTypes: number;
  /** record `http.server.request.time_to_first_byte` (the `timeToFirstByte` option) */
  timeToFirstByte?: boolean;
  /** serve the request metrics under classic names (`naming: 'classic'`) */
  classic?: ClassicNaming;
  /** Export meterline's own metrics with the HTTP ones (default true). */
  selfMetrics?: boolean;
  /** keep native histograms beside the classic request histograms (default: none) */
  native?: NativeSettings;
}

/**
 * Pre-aggregated HTTP and network metrics: recording is a table lookup and array increments; the OpenTelemetry
 * SDK sees the aggregates through the `MetricProducer` interface at collection time, so every reader exports
 * them with the user's own instruments.
 */
export class HttpStore implements MetricProducer {
  readonly durationBuckets: readonly number[];
  readonly requestSizeBuckets: readonly number[];
  readonly responseSizeBuckets: readonly number[];
  readonly connectionDurationBuckets: readonly number[];
  readonly native: NativeSettings | undefined;
  readonly overflows = new OverflowCounts();
  /** meterline's metrics about itself (scrapes, collections, faults, pushes), exported with the HTTP ones. */
  readonly self: SelfMetrics;
  readonly routes: RouteCap;
  private readonly errorTypes: ErrorTypeCap;
  readonly noRoute: RouteKey;
  readonly overflowRoute: RouteKey;

  /** in-flight requests by method index * 2 + scheme index */
  readonly active = new Int32Array(METHOD_NAMES.length * 2);
  /** method/scheme pairs that have had a request: their in-flight series is exported (0 when idle) */
  readonly activeSeen = new Uint8Array(METHOD_NAMES.length * 2);
  readonly activeAttributes: readonly Attributes[];
  readonly startTime = hrTimeFromMs(Date.now());

  readonly ports = new Map<string, PortGroup>();
  readonly allSeries: Series[] = [];
  readonly timeToFirstByte: boolean;
  readonly classic: ClassicNaming | undefined;
  /** protocol switches (101) and CONNECT tunnels by method index: kept out of the request histograms */
  readonly upgrades = new Float64Array(METHOD_NAMES.length);

  constructor(options: StoreOptions) {
    this.durationBuckets = options.durationBuckets;
    this.requestSizeBuckets = options.requestSizeBuckets;
    this.responseSizeBuckets = options.responseSizeBuckets;
    this.connectionDurationBuckets = options.connectionDurationBuckets;
    this.timeToFirstByte = options.timeToFirstByte === true;
    this.classic = options.classic;
    this.self = new SelfMetrics(options.selfMetrics ?? true);
    this.native = options.native;
    this.routes = new RouteCap(options.maxRoutes);
    this.errorTypes = new ErrorTypeCap(options.maxErrorTypes, this.overflows);
    this.noRoute = this.routes.noRoute;
    this.overflowRoute = this.routes.overflowRoute;
    const activeAttributes: Attributes[] = [];
    for (let m = 0; m < METHOD_NAMES.length; m++) {
      for (let s = 0; s < 2; s++) {
        activeAttributes[m * 2 + s] = Object.freeze({
          [ATTR_METHOD]: METHOD_NAMES[m],
          [ATTR_SCHEME]: SCHEMES[s],
        });
      }
    }
    this.activeAttributes = activeAttributes;
  }

  get maxRoutes(): number {
    return this.routes.max;
  }

  /** The interned key for a route template (capped: see RouteCap). */
  route(template: string | undefined): RouteKey {
    return this.routes.route(template);
  }

  /**
   * The series for one finished request; created on first sight with frozen attributes. `extra`: the user's
   * attributes (the `attributes` option), already validated and capped.
   */
  series(
    route: RouteKey,
    method: number,
    scheme: number,
    protocol: number,
    status: number,
    errorType: string | undefined,
    extra?: ExtraAttributes,
  ): Series {
    if (route === this.overflowRoute) this.overflows.route++;
    const key = ((status * 16 + method) * 2 + scheme) * 4 + protocol;
    if (errorType === undefined && extra === undefined) {
      if (route.lastKey === key) return route.lastSeries as Series;
      let s = route.byKey.get(key);
      if (s === undefined) {
        s = this.newSeries(route, key, undefined, undefined);
        route.byKey.set(key, s);
      }
      route.lastKey = key;
      route.lastSeries = s;
      return s;
    }
    if (errorType !== undefined) errorType = this.errorTypes.cap(errorType);
    const byName = extra === undefined ? route.byError : route.byExtra;
    const name = (extra === undefined ? '' : extra.key) + (errorType ?? '') + ' ' + key;
    let s = byName.get(name);
    if (s === undefined) {
      s = this.newSeries(route, key, errorType, extra);
      byName.set(name, s);
    }
    return s;
  }

  /** A new series; `key` packs status, method, scheme and protocol as `series()` computes it. */
  private newSeries(
    route: RouteKey,
    key: number,
    errorType: string | undefined,
    extra: ExtraAttributes | undefined,
  ): Series {
    const protocol = key & 3;
    const scheme = (key >> 2) & 1;
    const method = (key >> 3) & 15;
    const status = key >> 7;
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
    const scope = collectScope(this);
    if (this.classic === undefined) return scope;
    return classicScope(scope, this.classic, this.allSeries, this.active, this.activeSeen);
  }

  /** `MetricProducer`: lets any OpenTelemetry MetricReader export the aggregates. */
  async collect(): Promise<CollectionResult> {
    return producerResult(this.collectScope());
  }
}
