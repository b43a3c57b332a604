/**
 * What both router patches (Express 4 and 5) do per request: start measuring in the router `metrics()` was
 * given to, report the route template and the errors the layers see, keep an error layer last.
 */
import type { Request, Response } from 'express';
import { AdapterCore, reservedUrl, stateOf, type RequestState, type RouteKey } from '@meterline/core/adapter';
import { enterMount, prefixAt, routeTemplate, type Mount } from './route-template.js';

export const kAdapter = Symbol.for('meterline.express.adapter');
const kErrorLayer = Symbol.for('meterline.express.errorLayer');
const kRouteKey = Symbol.for('meterline.express.routeKey');

export type Fn = (...args: any[]) => any;
export interface Route {
  path: unknown;
  [kRouteKey]?: { adapter: AdapterCore; key: RouteKey | null };
}
export interface RouterLike {
  stack: object[];
  [kAdapter]?: AdapterCore;
  [kErrorLayer]?: object;
}

export function ownerOf(state: RequestState): AdapterCore | undefined {
  return state.owner instanceof AdapterCore ? state.owner : undefined;
}

/** `router.use(...)` that takes `metrics()`'s middleware out and marks the router as the one to measure in. */
export function wrapUse(originalUse: Fn): Fn {
  return function meterlineUse(this: RouterLike, ...args: unknown[]) {
    const flat = args.flat(Infinity as 1);
    const ours = flat.find((a) => typeof a === 'function' && (a as any)[kAdapter] !== undefined) as any;
    if (ours === undefined) return originalUse.apply(this, args);
    this[kAdapter] = ours[kAdapter];
    const rest = args.filter((a) => a !== ours);
    const fns = rest.flat(Infinity as 1).filter((a) => typeof a === 'function');
    if (fns.length > 0) originalUse.apply(this, rest);
    return this;
  };
}

/** `router.handle(req, res, out)` that serves the metrics path or starts measuring, in the marked router. */
export function wrapHandle(originalHandle: Fn, originalUse: Fn): Fn {
  return function meterlineHandle(this: RouterLike, req: Request, res: Response, out: unknown) {
    const adapter = this[kAdapter];
    if (adapter !== undefined && stateOf(res) === undefined) {
      // req.url is read only if the URL the server received could be for the metrics path: each read of req
      // after Express swapped its prototype is a cache miss (a mounted router sees a part of that URL)
      const original = reservedUrl(res);
      if (
        (original === undefined || adapter.mayBeMetricsRequest(original)) &&
        adapter.isMetricsRequest(req.url)
      ) {
        adapter.serveMetrics(req, res);
        return;
      }
      if (adapter.start(req, res) !== undefined) ensureErrorLayer(this, originalUse);
    }
    return originalHandle.call(this, req, res, out);
  };
}

/** A layer's error handler that reports the error first (`'route'`/`'router'` are signals, not errors). */
export function wrapHandleError(originalHandleError: Fn): Fn {
  return function meterlineHandleError(
    this: unknown,
    error: unknown,
    req: Request,
    res: Response,
    next: unknown,
  ) {
    const state = stateOf(res);
    if (state !== undefined && error !== 'route' && error !== 'router') {
      const adapter = ownerOf(state);
      if (adapter !== undefined) adapter.setError(state, error);
    }
    return originalHandleError.call(this, error, req, res, next);
  };
}

/** The request entered a mount with path template `pattern` (null: unknown). */
export function onMount(state: RequestState, req: Request, pattern: string | null): void {
  let mounts = state.scratch as Mount[] | undefined;
  if (mounts === undefined) state.scratch = mounts = [];
  enterMount(mounts, req.baseUrl, pattern);
}

/** A route matched: report its template; `entry` gives the path that matched when the route has several. */
export function onRoute<L extends { route?: unknown }>(
  adapter: AdapterCore,
  state: RequestState,
  layer: L,
  req: Request,
  entry: (layer: L, req: Request) => unknown,
): void {
  const route = layer.route as Route;
  // req.baseUrl is read only inside a mounted router (every read of Express's req is a cache miss)
  const prefix = state.scratch === undefined ? '' : prefixAt(state.scratch as Mount[], req.baseUrl);
  if (prefix === null) return; // under a mount of unknown path: no template rather than a wrong one
  if (prefix === '' && typeof route.path === 'string') {
    // the common case: a top-level route with one path; cache its key on the route itself
    const cached = route[kRouteKey];
    if (cached !== undefined && cached.adapter === adapter) {
      if (cached.key === null) state.excluded = true;
      else {
        state.excluded = false;
        state.route = cached.key;
      }
      return;
    }
    adapter.setRoute(state, route.path);
    route[kRouteKey] = { adapter, key: state.excluded ? null : (state.route as RouteKey) };
    return;
  }
  adapter.setRoute(state, routeTemplate(prefix, Array.isArray(route.path) ? entry(layer, req) : route.path));
}

/** Keep an error-handling layer last in the instrumented router, so errors nobody handled are seen too. */
function ensureErrorLayer(router: RouterLike, originalUse: Fn): void {
  const stack = router.stack;
  let layer = router[kErrorLayer];
  if (layer !== undefined && stack[stack.length - 1] === layer) return;
  if (layer === undefined) {
    originalUse.call(router, function meterlineErrors(err: unknown, _req: unknown, _res: unknown, next: Fn) {
      next(err);
    });
    layer = stack.pop() as object;
    router[kErrorLayer] = layer;
  } else {
    const at = stack.indexOf(layer);
    if (at >= 0) stack.splice(at, 1);
  }
  stack.push(layer);
}
