/**
 * What a request went through, told to the adapter that measures it: the mounts it entered and the route that
 * answered it (a top-level route with one path keeps its key, so the next request skips the template work).
 */
import type { Request } from 'express';
import { AdapterCore, type RequestState, type RouteKey } from '@meterline/core/adapter';
import { enterMount, prefixAt, routeTemplate, type Mount } from './route-template.js';

const kRouteKey = Symbol.for('meterline.express.routeKey');

interface Route {
  path: unknown;
  [kRouteKey]?: { adapter: AdapterCore; key: RouteKey | null };
}

export function ownerOf(state: RequestState): AdapterCore | undefined {
  return state.owner instanceof AdapterCore ? state.owner : undefined;
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
