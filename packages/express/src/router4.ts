/**
 * Express 4: patch `express/lib/router` (proto.use/handle) and its Layer (handle_request/handle_error) once per
 * process. Express 4's layers keep only a compiled RegExp, so `use()` records the path each layer was mounted at.
 */
import type { Request, Response } from 'express';
import { reportOnce, stateOf } from '@meterline/core/adapter';
import { mountEntry, routeEntry } from './array-paths4.js';
import { recoverMountPath } from './mount-path4.js';
import {
  onMount,
  onRoute,
  ownerOf,
  wrapHandle,
  wrapHandleError,
  wrapUse,
  type Fn,
  type RouterLike,
} from './router-hooks.js';

const kPatched = Symbol.for('meterline.express.patched');
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
  handle_request: Fn;
  handle_error: Fn;
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

export function patchRouter4(express: Express4): void {
  const proto = express.Router as unknown as Record<string | symbol, any>;
  if (proto[kPatched] === true) return;
  proto[kPatched] = true;
  const probe = express.Router();
  probe.use(function probeLayer() {});
  const layerProto = Object.getPrototypeOf(probe.stack[0]) as Layer4;

  const originalUse = proto.use as Fn;
  const metricsUse = wrapUse(originalUse);
  proto.use = function meterlineUse4(this: RouterLike, ...args: unknown[]) {
    const stack = this.stack as Layer4[];
    const before = stack.length;
    const result = metricsUse.apply(this, args);
    const path = usePath(args[0]);
    for (let i = before; i < stack.length; i++) stack[i][kPath] = path;
    return result;
  };
  proto.handle = wrapHandle(proto.handle as Fn, originalUse);

  const originalHandleRequest = layerProto.handle_request;
  layerProto.handle_request = function meterlineHandleRequest(
    this: Layer4,
    req: Request,
    res: Response,
    next: unknown,
  ) {
    const state = stateOf(res);
    if (state !== undefined) {
      try {
        const adapter = ownerOf(state);
        if (adapter !== undefined) {
          if (this.route !== undefined) onRoute(adapter, state, this, req, routeEntry);
          else {
            let path = this[kPath];
            // a mount from before use() was patched (a route's own layers have a `method`): read its RegExp, once
            if (path === undefined && this.regexp.fast_slash !== true && !('method' in this))
              path = this[kPath] = recoverMountPath(this);
            if (path === null) {
              onMount(state, req, null);
              reportOnce('express 4 mount path', new Error(UNKNOWN_MOUNT));
            } else if (path !== undefined && path !== '/') onMount(state, req, mountEntry(this, path));
          }
        }
      } catch (err) {
        reportOnce('express route tracking', err);
      }
    }
    return originalHandleRequest.call(this, req, res, next);
  };
  layerProto.handle_error = wrapHandleError(layerProto.handle_error);
}
