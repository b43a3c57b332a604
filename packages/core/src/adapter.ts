import type { IncomingMessage, ServerResponse } from 'node:http';
import { AttributeGuard } from './attributes.js';
import { createMetricsHandler, validateHandlerOptions } from './handler.js';
import { prepareInjected } from './injected.js';
import { atPath, PAGE_DATA_SUFFIX, PageServer } from './page.js';
import { COMMON_OPTION_KEYS, DEFAULTS, HANDLER_OPTION_KEYS, pick } from './options.js';
import type { RequestRecorder } from './recorder.js';
import type { RequestState } from './request-state.js';
import { runtimeFromOptions, type Meterline } from './runtime.js';
import type { RouteKey } from './series.js';
import type { CommonOptions, MetricsHandlerOptions, MetricsRequestHandler } from './types.js';
import {
  checkFunction,
  checkInteger,
  checkKnown,
  checkObject,
  checkPath,
  checkStringList,
  fail,
} from './validate.js';

/** What an adapter tells core about its framework, once, when its middleware is created. */
export interface AdapterSpec<S> {
  /** Names the middleware in option errors, e.g. `'@meterline/express metrics()'`. */
  where: string;
  /** Option names the adapter accepts beyond `CommonOptions` (default none). */
  extraOptions?: readonly string[];
  /**
   * The framework swaps the prototypes of `req`/`res` per request (Express): give the server's requests their
   * state before the framework sees them (default false).
   */
  reserve?: boolean;
  /** Called once just before one of this adapter's requests is counted, finished or aborted (learn the route late). */
  beforeCount?: (state: RequestState<S>) => void;
}

const EXCLUDED = null;

/**
 * The framework-independent half of every adapter: options, the shared handler at the metrics path,
 * exclusions, route interning and the request lifecycle. An adapter hooks its framework and reports the route
 * template, the thrown error and nothing else. `S` is the adapter's per-request data (`state.scratch`).
 */
export class AdapterCore<S = unknown> {
  readonly runtime: Meterline;
  readonly recorder: RequestRecorder;
  readonly metricsPath: string | undefined;
  readonly handler: MetricsRequestHandler | undefined;
  /** the live page (the `page` option), or undefined */
  readonly page: PageServer | undefined;
  readonly hasExclusions: boolean;
  /** runs the `attributes` option's callback (read by the recorder when a request ends) */
  readonly attributeGuard: AttributeGuard | undefined;
  readonly reserve: boolean;
  readonly beforeCount: ((state: RequestState<S>) => void) | undefined;
  private readonly excludeStrings: Set<string>;
  private readonly excludePatterns: RegExp[];
  private readonly routeCache = new Map<string, RouteKey | null>();

  constructor(spec: AdapterSpec<S>, options: CommonOptions) {
    const where = spec.where;
    checkObject(where, 'options', options);
    checkKnown(where, options, [...COMMON_OPTION_KEYS, ...(spec.extraOptions ?? [])]);
    checkPath(where, 'path', options.path);
    checkPath(where, 'page', options.page);
    checkStringList(where, 'exclude', options.exclude);
    checkFunction(where, 'attributes', options.attributes);
    checkInteger(where, 'maxAttributeValues', options.maxAttributeValues, 1, 10_000);
    this.reserve = spec.reserve ?? false;
    this.beforeCount = spec.beforeCount;
    this.runtime = runtimeFromOptions(where, options);
    this.recorder = this.runtime.recorder;
    this.metricsPath = options.path === false ? undefined : (options.path ?? DEFAULTS.path);
    this.handler =
      this.metricsPath === undefined
        ? undefined
        : createMetricsHandler(pick<MetricsHandlerOptions>(options, HANDLER_OPTION_KEYS), this.runtime);
    const pagePath = options.page === undefined || options.page === false ? undefined : options.page;
    if (pagePath !== undefined && this.handler === undefined) {
      // the page uses `auth` even when the app serves no metrics path
      validateHandlerOptions(where, pick<MetricsHandlerOptions>(options, HANDLER_OPTION_KEYS));
    }
    const metricsPath = this.metricsPath;
    if (
      pagePath !== undefined &&
      metricsPath !== undefined &&
      (atPath(metricsPath, pagePath) || atPath(metricsPath, pagePath + PAGE_DATA_SUFFIX))
    ) {
      fail(where, 'page', pagePath, `expected a path other than the metrics path (${this.metricsPath})`);
    }
    this.page =
      pagePath === undefined ? undefined : new PageServer(pagePath, this.runtime.store, options.auth);
    if (this.page !== undefined) {
      // only adapters with a page match its paths: without it, the per-request checks are the plain ones above
      this.isMetricsRequest = this.isMetricsOrPageRequest;
      this.mayBeMetricsRequest = this.mayBeMetricsOrPageRequest;
    }
    const exclude = options.exclude ?? [];
    this.excludeStrings = new Set(exclude.filter((e): e is string => typeof e === 'string'));
    this.excludePatterns = exclude.filter((e): e is RegExp => e instanceof RegExp);
    this.hasExclusions = exclude.length > 0;
    this.attributeGuard =
      options.attributes === undefined
        ? undefined
        : new AttributeGuard(
            options.attributes,
            options.maxAttributeValues ?? DEFAULTS.maxAttributeValues,
            this.runtime.store.overflows,
          );
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

  /** `isMetricsRequest` with the `page` option: the metrics path, the page or its data. */
  private isMetricsOrPageRequest(url: string | undefined): boolean {
    if (url === undefined) return false;
    const path = this.metricsPath;
    return (path !== undefined && atPath(url, path)) || (this.page as PageServer).matches(url);
  }

  /** `mayBeMetricsRequest` with the `page` option. */
  private mayBeMetricsOrPageRequest(original: string): boolean {
    return (
      (this.metricsPath !== undefined && original.includes(this.metricsPath)) ||
      original.includes((this.page as PageServer).path)
    );
  }

  /** The paths served here rather than measured: the metrics path, the page and its data (for routers). */
  get servedPaths(): string[] {
    const paths: string[] = [];
    if (this.metricsPath !== undefined) paths.push(this.metricsPath);
    if (this.page !== undefined) paths.push(this.page.path, this.page.dataPath);
    return paths;
  }

  /** Serve the metrics path or the page (whichever `isMetricsRequest()` matched); the request is not measured. */
  serveMetrics(req: IncomingMessage, res: ServerResponse): void {
    const page = this.page;
    if (page !== undefined && (this.metricsPath === undefined || !atPath(req.url ?? '', this.metricsPath))) {
      page.serve(req, res);
      return;
    }
    (this.handler as MetricsRequestHandler)(req, res);
  }

  /**
   * Begin measuring (idempotent). The state is this adapter's if `state.owner === this`; another adapter (or
   * another copy of core) may own it. Unmatched paths matching an `exclude` pattern are checked at the end.
   */
  start(req: IncomingMessage, res: ServerResponse): RequestState<S> | undefined {
    const state = this.recorder.start(req, res, this.reserve) as RequestState<S> | undefined;
    if (state !== undefined && state.owner === undefined) {
      state.owner = this;
      if (this.hasExclusions) this.excludeUnmatched(state, req.url);
    }
    return state;
  }

  /** For requests injected without a network (Fastify's `inject()`): call before `start()`. */
  prepareInjected(req: IncomingMessage, res: ServerResponse): void {
    prepareInjected(req, res);
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
  setRoute(state: RequestState<S>, template: string): void {
    this.setRouteKey(state, this.routeKey(template));
  }

  /** Report the matched route as a key from `routeKey()` (null: excluded). */
  setRouteKey(state: RequestState<S>, key: RouteKey | null): void {
    if (key === EXCLUDED) state.excluded = true;
    else {
      state.excluded = false;
      state.route = key;
    }
  }

  /** For unmatched requests: exclusion patterns are tested against the path. */
  excludeUnmatched(state: RequestState<S>, url: string | undefined): void {
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
  setError(state: RequestState<S>, error: unknown): void {
    if (state.error === undefined) state.error = error === undefined ? new Error('undefined error') : error;
  }
}
