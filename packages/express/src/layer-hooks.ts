/**
 * The wrappers of a router Layer's request and error handlers, the same on both Express majors: report the route
 * or mount a layer matched and the errors it sees to the adapter measuring the request.
 */
import type { Request, Response } from 'express';
import { reportOnce, stateOf, type RequestState } from '@meterline/core/adapter';
import type { Fn } from './measured-router.js';
import { onRoute, ownerOf } from './route-report.js';

/** What both hooks read of a layer: a route's layer has its route. */
export interface LayerLike {
  route?: unknown;
}
/** How a major tells the path a route with several matched. */
export type RouteEntry<L> = (layer: L, req: Request) => unknown;
/** How a major reports the mount a layer that is not a route entered, if any. */
export type OnLayer<L> = (layer: L, state: RequestState, req: Request) => void;

/** A layer's request handler that reports the route or mount it matched first. */
export function wrapHandleRequest<L extends LayerLike>(
  originalHandleRequest: Fn,
  routeEntry: RouteEntry<L>,
  onLayer: OnLayer<L>,
): Fn {
  return function meterlineHandleRequest(this: L, req: Request, res: Response, next: unknown) {
    const state = stateOf(res);
    if (state !== undefined) {
      try {
        const adapter = ownerOf(state);
        if (adapter !== undefined) {
          if (this.route !== undefined) onRoute(adapter, state, this, req, routeEntry);
          else onLayer(this, state, req);
        }
      } catch (err) {
        reportOnce('express route tracking', err);
      }
    }
    return originalHandleRequest.call(this, req, res, next);
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
