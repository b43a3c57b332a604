/**
 * Express 4: `express/lib/router` (proto.use/handle) and its Layer (handle_request/handle_error). Express 4's
 * layers keep only a compiled RegExp, so `use()` records the path each layer was mounted at.
 */
import type { Request } from 'express';
import { reportOnce, type RequestState } from '@meterline/core/adapter';
import { mountEntry, routeEntry } from './array-paths4.js';
import type { Fn, RouterLike } from './measured-router.js';
import { recoverMountPath } from './mount-path4.js';
import { patchRouter } from './patch-router.js';
import { onMount } from './route-report.js';

/** the path a layer was registered with by `use()` (null: a mount from before the patch whose path is unknown) */
const kPath = Symbol.for('meterline.express.path');
const UNKNOWN_MOUNT =
  'a router mounted before metrics() was first called, at a path that cannot be read back from its RegExp ' +
  '(a custom param pattern, an array or a RegExp): its routes get no http.route';

interface Layer4 {
  route?: { path: unknown };
  regexp: RegExp & { fast_slash?: boolean };
  path?: string;
  keys?: Array<{ name: string | number }>;
  [kPath]?: unknown;
}
export interface Express4 {
  Router: Fn & { use: Fn; handle: Fn; process_params: Fn };
}

/** True if `express` is Express 4 (its Router is the `express/lib/router` proto with `process_params`). */
export function isExpress4(express: unknown): express is Express4 {
  const router = (express as { Router?: { handle?: unknown; process_params?: unknown } }).Router;
  return typeof router?.handle === 'function' && typeof router.process_params === 'function';
}

/** The path argument of `use(...)` as Express 4 reads it ('/' when the first argument is a function). */
function usePath(first: unknown): unknown {
  let arg = first;
  while (Array.isArray(arg) && arg.length !== 0) arg = arg[0];
  return typeof arg === 'function' ? '/' : first;
}

/** `use()` that notes on each layer it adds the path it was given. */
function notePaths(metricsUse: Fn): Fn {
  return function meterlineUse4(this: RouterLike, ...args: unknown[]) {
    const stack = this.stack as Layer4[];
    const before = stack.length;
    const result = metricsUse.apply(this, args);
    const path = usePath(args[0]);
    for (let i = before; i < stack.length; i++) stack[i][kPath] = path;
    return result;
  };
}

/** A mount entered: the path `use()` noted, or read back from the RegExp of a mount from before the patch. */
function onLayer(layer: Layer4, state: RequestState, req: Request): void {
  let path = layer[kPath];
  // a mount from before use() was patched (a route's own layers have a `method`): read its RegExp, once
  if (path === undefined && layer.regexp.fast_slash !== true && !('method' in layer))
    path = layer[kPath] = recoverMountPath(layer);
  if (path === null) {
    onMount(state, req, null);
    reportOnce('express 4 mount path', new Error(UNKNOWN_MOUNT));
  } else if (path !== undefined && path !== '/') onMount(state, req, mountEntry(layer, path));
}

export function patchRouter4(express: Express4): void {
  patchRouter({
    proto: express.Router as unknown as Record<string | symbol, any>,
    newRouter: () => express.Router(),
    handleRequest: 'handle_request',
    handleError: 'handle_error',
    use: notePaths,
    routeEntry,
    onLayer,
  });
}
