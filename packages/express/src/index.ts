import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AdapterCore,
  reportOnce,
  stateOf,
  reservedUrl,
  type CommonOptions,
  type RequestState,
  type RouteKey,
} from '@meterline/core/adapter';

/** Options of the Express middleware: everything core accepts (see `@meterline/core`). */
export type ExpressMetricsOptions = CommonOptions;

const kAdapter = Symbol.for('meterline.express.adapter');
const kErrorLayer = Symbol.for('meterline.express.errorLayer');
const kRouteKey = Symbol.for('meterline.express.routeKey');
const kPatched = Symbol.for('meterline.express.patched');

interface Layer {
  route?: Route;
  rawPath?: unknown;
  slash?: boolean;
  handle: (...args: unknown[]) => unknown;
  handleRequest(req: unknown, res: unknown, next: unknown): unknown;
  handleError(err: unknown, req: unknown, res: unknown, next: unknown): unknown;
}
interface Route {
  path: unknown;
  [kRouteKey]?: { adapter: AdapterCore; key: RouteKey | null };
}
interface RouterLike {
  stack: Layer[];
  [kAdapter]?: AdapterCore;
  [kErrorLayer]?: Layer;
}
/** A mount point on the way to the route: the request's baseUrl after it matched, and its template. */
interface Mount {
  base: string;
  template: string;
}

/** The symbol under which the router keeps the pattern that matched (array paths), found on first sight. */
let matchedPatternSymbol: symbol | undefined | null;
function matchedPattern(req: object): unknown {
  if (matchedPatternSymbol === undefined) {
    matchedPatternSymbol =
      Object.getOwnPropertySymbols(req).find((s) => s.description === 'router.tracing.matchedRoute') ?? null;
  }
  return matchedPatternSymbol === null ? undefined : (req as Record<symbol, unknown>)[matchedPatternSymbol];
}

function patternString(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  if (pattern instanceof RegExp) return String(pattern);
  if (Array.isArray(pattern)) return pattern.map(patternString).join('|');
  return String(pattern);
}

function joinTemplate(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '/' || path === '') return prefix;
  return prefix.endsWith('/') && path.startsWith('/') ? prefix + path.slice(1) : prefix + path;
}

/** The mount template that matches the request's current baseUrl (drops mounts the request has left). */
function currentPrefix(state: RequestState, baseUrl: string): string {
  const mounts = state.scratch as Mount[] | undefined;
  if (mounts === undefined || baseUrl === '') return '';
  while (mounts.length > 0) {
    const top = mounts[mounts.length - 1];
    if (top.base === baseUrl) return top.template;
    mounts.pop();
  }
  return '';
}

function onMount(state: RequestState, layer: Layer, req: Request): void {
  const base = req.baseUrl;
  let mounts = state.scratch as Mount[] | undefined;
  if (mounts === undefined) state.scratch = mounts = [];
  // leave mounts that are not a parent of this one (siblings the request went through before)
  while (mounts.length > 0) {
    const top = mounts[mounts.length - 1].base;
    if (base.length > top.length && base.startsWith(top) && base.charCodeAt(top.length) === 47) break;
    mounts.pop();
  }
  let pattern = patternString(matchedPattern(req) ?? layer.rawPath);
  if (pattern.length > 1 && pattern.endsWith('/')) pattern = pattern.slice(0, -1);
  const parent = mounts.length > 0 ? mounts[mounts.length - 1].template : '';
  mounts.push({ base, template: joinTemplate(parent, pattern) });
}

function onRoute(adapter: AdapterCore, state: RequestState, layer: Layer, req: Request): void {
  const route = layer.route as Route;
  // req.baseUrl is read only inside a mounted router (every read of Express's req is a cache miss)
  const prefix = state.scratch === undefined ? '' : currentPrefix(state, req.baseUrl);
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
  const pattern = Array.isArray(route.path) ? (matchedPattern(req) ?? route.path) : route.path;
  adapter.setRoute(state, joinTemplate(prefix, patternString(pattern)));
}

/** Patch the router once per process: prototypes, so routes registered before `metrics()` are covered too. */
function patchRouter(): void {
  const Router = (express as unknown as { Router: { prototype: Record<string | symbol, any> } }).Router;
  const proto = Router.prototype;
  if (proto[kPatched] === true) return;
  proto[kPatched] = true;
  const probe = (express as any).Router();
  probe.use(function probeLayer() {});
  const layerProto = Object.getPrototypeOf(probe.stack[0]) as Layer;

  const originalUse = proto.use;
  proto.use = function meterlineUse(this: RouterLike, ...args: unknown[]) {
    const flat = args.flat(Infinity as 1);
    const ours = flat.find((a) => typeof a === 'function' && (a as any)[kAdapter] !== undefined) as any;
    if (ours === undefined) return originalUse.apply(this, args);
    this[kAdapter] = ours[kAdapter];
    const rest = args.filter((a) => a !== ours);
    const fns = rest.flat(Infinity as 1).filter((a) => typeof a === 'function');
    if (fns.length > 0) originalUse.apply(this, rest);
    return this;
  };

  const originalHandle = proto.handle;
  proto.handle = function meterlineHandle(this: RouterLike, req: Request, res: Response, out: unknown) {
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

  const originalHandleRequest = layerProto.handleRequest;
  layerProto.handleRequest = function meterlineHandleRequest(
    this: Layer,
    req: Request,
    res: Response,
    next: unknown,
  ) {
    const state = stateOf(res as unknown as ServerResponse);
    if (state !== undefined) {
      try {
        const adapter = state.owner;
        if (adapter !== undefined) {
          if (this.route !== undefined) onRoute(adapter, state, this, req);
          else if (this.slash !== true && this.rawPath !== '/' && this.rawPath !== undefined)
            onMount(state, this, req);
        }
      } catch (err) {
        reportOnce('express route tracking', err);
      }
    }
    return originalHandleRequest.call(this, req, res, next);
  };

  const originalHandleError = layerProto.handleError;
  layerProto.handleError = function meterlineHandleError(
    this: Layer,
    error: unknown,
    req: Request,
    res: Response,
    next: unknown,
  ) {
    const state = stateOf(res as unknown as ServerResponse);
    if (state !== undefined && error !== 'route' && error !== 'router') {
      const adapter = state.owner;
      if (adapter !== undefined) adapter.setError(state, error);
    }
    return originalHandleError.call(this, error, req, res, next);
  };
}

/** Keep an error-handling layer last in the instrumented router, so errors nobody handled are seen too. */
function ensureErrorLayer(router: RouterLike, originalUse: (...args: unknown[]) => unknown): void {
  const stack = router.stack;
  let layer = router[kErrorLayer];
  if (layer !== undefined && stack[stack.length - 1] === layer) return;
  if (layer === undefined) {
    originalUse.call(
      router,
      function meterlineErrors(err: unknown, _req: unknown, _res: unknown, next: NextFunction) {
        next(err);
      },
    );
    layer = stack.pop() as Layer;
    router[kErrorLayer] = layer;
  } else {
    const at = stack.indexOf(layer);
    if (at >= 0) stack.splice(at, 1);
  }
  stack.push(layer);
}

/**
 * Per-route RED metrics for Express 5 and a Prometheus `/metrics` endpoint, with one line:
 * `app.use(metrics())`. Routes registered before or after it are measured alike.
 */
export function metrics(options: ExpressMetricsOptions = {}): RequestHandler {
  // Express swaps the prototypes of req/res per request: reserve their state while they still share their maps
  const adapter = new AdapterCore({ where: '@meterline/express metrics()', reserve: true }, options);
  patchRouter();
  // Only runs if the router patch did not take (e.g. a second copy of the router package): measure from here.
  const middleware = function meterlineMiddleware(req: Request, res: Response, next: NextFunction): void {
    try {
      if (adapter.isMetricsRequest(req.url)) {
        adapter.serveMetrics(req as IncomingMessage, res as ServerResponse);
        return;
      }
      adapter.start(req, res);
    } catch (err) {
      reportOnce('express middleware', err);
    }
    next();
  };
  (middleware as any)[kAdapter] = adapter;
  return middleware;
}

export default metrics;
