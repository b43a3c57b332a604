/**
 * The router `metrics()` was given to: its `use()` takes the middleware out and marks the router, its `handle()`
 * serves the metrics path or starts measuring there, and an error layer stays last in it.
 */
import type { Request, Response } from 'express';
import { reservedUrl, stateOf, type AdapterCore } from '@meterline/core/adapter';

export const kAdapter = Symbol.for('meterline.express.adapter');
const kErrorLayer = Symbol.for('meterline.express.errorLayer');

export type Fn = (...args: any[]) => any;
export interface RouterLike {
  stack: object[];
  [kAdapter]?: AdapterCore;
  [kErrorLayer]?: object;
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
