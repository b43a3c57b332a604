import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createMetricsHandler,
  HANDLER_OPTION_KEYS,
  type MetricsHandlerOptions,
  type MetricsRequestHandler,
} from './handler.js';
import { type RequestRecorder, type RequestState } from './recorder.js';
import { RUNTIME_OPTION_KEYS, runtimeFromOptions, type Meterline, type MeterlineOptions } from './runtime.js';
import type { RouteKey } from './store.js';
import {
  checkFunction,
  checkInteger,
  checkKnown,
  checkObject,
  checkPath,
  checkStringList,
} from './validate.js';
import { AttributeGuard, type AttributesCallback } from './attributes.js';

/** Options every adapter accepts (runtime options apply only to the first middleware created). */
export interface CommonOptions extends MeterlineOptions, MetricsHandlerOptions {
  /**
   * Path at which the app serves the Prometheus metrics (default `/metrics`); `false` to serve nothing on the
   * app (e.g. when `startMetricsServer()` serves them on their own port). Requests to it are not measured.
   */
  path?: string | false;
  /**
   * Your own low-cardinality attributes for the request metrics, computed when each request ends, e.g.
   * `(req) => ({ tenant_tier: tierOf(req) })`. At most `maxAttributeValues` distinct values per key (more fold
   * into `__overflow__`); a callback that throws or returns junk is reported once and ignored.
   */
  attributes?: AttributesCallback;
  /** Distinct values per user attribute key (default 100). */
  maxAttributeValues?: number;
  /**
   * Routes not to record: route templates (`'/health'`) or regular expressions tested against the template;
   * for unmatched requests, against the path.
   */
  exclude?: Array<string | RegExp>;
}

export const COMMON_OPTION_KEYS: readonly string[] = [
  ...RUNTIME_OPTION_KEYS,
  ...HANDLER_OPTION_KEYS,
  'path',
  'exclude',
  'attributes',
  'maxAttributeValues',
];

const EXCLUDED = null;

/**
 * The framework-independent half of every adapter: option validation, the shared handler at the metrics path,
 * exclusions, route interning. An adapter only hooks its framework and reports the route template.
 */
export class AdapterCore {
  readonly runtime: Meterline;
  readonly recorder: RequestRecorder;
  readonly metricsPath: string | undefined;
  readonly handler: MetricsRequestHandler | undefined;
  private readonly excludeStrings: Set<string>;
  private readonly excludePatterns: RegExp[];
  private readonly routeCache = new Map<string, RouteKey | null>();
  readonly hasExclusions: boolean;
  /** runs the `attributes` option's callback (read by the recorder when a request ends) */
  readonly attributeGuard: AttributeGuard | undefined;
  /**
   * Set by adapters of frameworks that swap the prototypes of `req`/`res` (Express): the server's requests then
   * get their state before the framework sees them (see the recorder's `start`).
   */
  reserve = false;

  constructor(where: string, options: CommonOptions, extraKeys: readonly string[] = []) {
    checkObject(where, 'options', options);
    checkKnown(where, options, [...COMMON_OPTION_KEYS, ...extraKeys]);
    checkPath(where, 'path', options.path);
    checkStringList(where, 'exclude', options.exclude);
    checkFunction(where, 'attributes', options.attributes);
    checkInteger(where, 'maxAttributeValues', options.maxAttributeValues, 1, 10_000);
    const handlerOptions: MetricsHandlerOptions = {};
    for (const key of HANDLER_OPTION_KEYS) {
      if (options[key] !== undefined) (handlerOptions as Record<string, unknown>)[key] = options[key];
    }
    this.runtime = runtimeFromOptions(where, options as Record<string, unknown>);
    this.recorder = this.runtime.recorder;
    this.metricsPath = options.path === false ? undefined : (options.path ?? '/metrics');
    this.handler =
      this.metricsPath === undefined ? undefined : createMetricsHandler(handlerOptions, this.runtime);
    const exclude = options.exclude ?? [];
    this.excludeStrings = new Set(exclude.filter((e): e is string => typeof e === 'string'));
    this.excludePatterns = exclude.filter((e): e is RegExp => e instanceof RegExp);
    this.hasExclusions = exclude.length > 0;
    this.attributeGuard =
      options.attributes === undefined
        ? undefined
        : new AttributeGuard(options.attributes, options.maxAttributeValues ?? 100, this.runtime.store);
  }

  /** True if this request is for the metrics path (no allocation: compares in place). */
  isMetricsRequest(url: string | undefined): boolean {
    const path = this.metricsPath;
    if (path === undefined || url === undefined || !url.startsWith(path)) return false;
    const next = url.charCodeAt(path.length);
    return Number.isNaN(next) || next === 63; /* '?' */
  }

  /**
   * False when a request whose URL was `original` when the server received it cannot be for the metrics path here,
   * even after a router stripped a mount prefix from it (what remains of a URL is then a part of it).
   */
  mayBeMetricsRequest(original: string): boolean {
    return this.metricsPath !== undefined && original.includes(this.metricsPath);
  }

  /** Serve the metrics path; the request is not measured. */
  serveMetrics(req: IncomingMessage, res: ServerResponse): void {
    (this.handler as MetricsRequestHandler)(req, res);
  }

  /** Begin measuring (idempotent). Unmatched paths matching an `exclude` pattern are checked at the end. */
  start(req: IncomingMessage, res: ServerResponse): RequestState | undefined {
    const state = this.recorder.start(req, res, this.reserve);
    if (state !== undefined && state.owner === undefined) {
      state.owner = this;
      if (this.hasExclusions) this.excludeUnmatched(state, req.url);
    }
    return state;
  }

  /** The interned key of a route template, or null if the template is excluded (adapters may cache it). */
  routeKey(template: string): RouteKey | null {
    let key = this.routeCache.get(template);
    if (key === undefined) {
      key = this.isExcluded(template) ? EXCLUDED : this.runtime.store.route(template);
      if (this.routeCache.size < this.runtime.store.maxRoutes * 2) this.routeCache.set(template, key);
    }
    return key;
  }

  /** Report the matched route template of a request. */
  setRoute(state: RequestState, template: string): void {
    const key = this.routeKey(template);
    if (key === EXCLUDED) state.excluded = true;
    else {
      state.excluded = false;
      state.route = key;
    }
  }

  /** For unmatched requests: exclusion patterns are tested against the path. */
  excludeUnmatched(state: RequestState, url: string | undefined): void {
    if (url === undefined) return;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (this.isExcluded(path)) state.excluded = true;
  }

  private isExcluded(template: string): boolean {
    if (this.excludeStrings.has(template)) return true;
    for (const re of this.excludePatterns) {
      re.lastIndex = 0;
      if (re.test(template)) return true;
    }
    return false;
  }

  /** Report a thrown error (its class name becomes error.type if the response is a 5xx). */
  setError(state: RequestState, error: unknown): void {
    if (state.error === undefined) state.error = error === undefined ? new Error('undefined error') : error;
  }
}
