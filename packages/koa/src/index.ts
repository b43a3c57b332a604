import type { Context, Middleware, Next } from 'koa';
import {
  AdapterCore,
  METHOD_NAMES,
  reportOnce,
  type CommonOptions,
  type RequestState,
} from '@meterline/core/adapter';

/** Options of the Koa middleware: everything core accepts (see `@meterline/core`). */
export type KoaMetricsOptions = CommonOptions;

/** What this adapter reads of a @koa/router layer (`ctx.matched` holds them). */
interface RouterLayer {
  path: string | RegExp;
  methods: string[];
}
/** The fields @koa/router sets on the context. */
interface RoutedContext {
  matched?: RouterLayer[];
  _matchedRoute?: string | RegExp;
  method: string;
}

/** Templates of RegExp routes, computed once per pattern. */
const regexpTemplates = new WeakMap<RegExp, string>();

function templateOf(path: string | RegExp): string {
  if (typeof path === 'string') return path;
  let template = regexpTemplates.get(path);
  if (template === undefined) regexpTemplates.set(path, (template = String(path)));
  return template;
}

/**
 * Report the template of the route that handled the request. @koa/router flattens nested routers and prefixes
 * into each layer's `path`, keeps every layer the path matched in `ctx.matched` (across routers), and sets
 * `ctx._matchedRoute` to the path of each layer as it starts running: the last one that ran may be a
 * `router.use()` middleware layer, not a route. So: the route layer (one with methods, matching the request's
 * method) whose path is the last one that ran; if a middleware answered before any route ran, the first route
 * layer the router was dispatching to. No such layer (router 404/405, no router): no `http.route`.
 */
function resolveRoute(adapter: AdapterCore<RoutedContext>, state: RequestState<RoutedContext>, ctx: RoutedContext): void {
  const matched = ctx.matched;
  if (matched === undefined || matched.length === 0) return;
  const last = ctx._matchedRoute;
  if (last === undefined) return;
  // the method as read when the request arrived (Koa's ctx.method goes through two getters)
  const method = METHOD_NAMES[state.method];
  let first: RouterLayer | undefined;
  for (let i = 0; i < matched.length; i++) {
    const layer = matched[i];
    if (layer.methods.length === 0 || !layer.methods.includes(method)) continue;
    if (layer.path === last) {
      first = layer;
      break;
    }
    if (first === undefined) first = layer;
  }
  if (first !== undefined) adapter.setRoute(state, templateOf(first.path));
}

/** Core calls this just before counting: an aborted request's route is known before it is counted. */
function beforeCount(state: RequestState<RoutedContext>): void {
  const ctx = state.scratch;
  if (ctx === undefined || state.owner === undefined) return;
  state.scratch = undefined;
  try {
    resolveRoute(state.owner, state, ctx);
  } catch (err) {
    reportOnce('koa route on close', err);
  }
}

/**
 * Per-route RED metrics for Koa 2 and 3 with @koa/router (12 to 15) and a Prometheus `/metrics` endpoint, with one line:
 * `app.use(metrics())`. Errors thrown downstream are recorded and rethrown unchanged.
 */
export function metrics(options: KoaMetricsOptions = {}): Middleware {
  const adapter = new AdapterCore<RoutedContext>({ where: '@meterline/koa metrics()', beforeCount }, options);
  // Not an async function: the route is resolved when the response closes (`beforeFinish`, which also covers
  // aborted requests), so the only thing to do after the downstream middleware is to see an error pass through,
  // and a rejection handler does that without an async function's promise, await and resumption per request.
  return function meterlineMiddleware(ctx: Context, next: Next): Promise<void> {
    const req = ctx.req;
    const res = ctx.res;
    let state: RequestState<RoutedContext> | undefined;
    try {
      if (adapter.isMetricsRequest(req.url)) {
        ctx.respond = false;
        adapter.serveMetrics(req, res);
        return Promise.resolve();
      }
      state = adapter.start(req, res);
      // a request another meterline middleware measures (or one not measured) is left alone
      if (state !== undefined && (state.owner !== adapter || state.scratch !== undefined)) state = undefined;
      if (state !== undefined) state.scratch = ctx as unknown as RoutedContext;
    } catch (err) {
      reportOnce('koa middleware', err);
      state = undefined;
    }
    if (state === undefined) return next();
    const measured = state;
    let downstream: Promise<void>;
    try {
      downstream = next();
    } catch (err) {
      adapter.setError(measured, err);
      throw err;
    }
    if (downstream === null || typeof (downstream as { then?: unknown })?.then !== 'function')
      return downstream;
    return downstream.then(undefined, (err: unknown) => {
      adapter.setError(measured, err);
      throw err;
    });
  };
}

export default metrics;
