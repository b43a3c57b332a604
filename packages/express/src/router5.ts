/**
 * Express 5: patch the `router` package's prototypes (Router.prototype.use/handle, Layer.prototype.handleRequest/
 * handleError) once per process, so routes registered before `metrics()` are covered too.
 */
import type { Request, Response } from 'express';
import { reportOnce, stateOf } from '@meterline/core/adapter';
import { mountPattern } from './route-template.js';
import { onMount, onRoute, ownerOf, wrapHandle, wrapHandleError, wrapUse, type Fn } from './router-hooks.js';

const kPatched = Symbol.for('meterline.express.patched');

interface Layer5 {
  route?: { path: unknown };
  rawPath?: unknown;
  slash?: boolean;
  handleRequest: Fn;
  handleError: Fn;
}
export interface Express5 {
  Router: { prototype: Record<string | symbol, any> } & (() => { use: Fn; stack: object[] });
}

/** True if `express` is Express 5 (its Router is the `router` package's class). */
export function isExpress5(express: unknown): express is Express5 {
  const proto = (express as { Router?: { prototype?: { handle?: unknown } } }).Router?.prototype;
  return typeof proto?.handle === 'function';
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

function matchedEntry(layer: Layer5, req: Request): unknown {
  return matchedPattern(req) ?? (layer.route as { path: unknown }).path;
}

export function patchRouter5(express: Express5): void {
  const proto = express.Router.prototype;
  if (proto[kPatched] === true) return;
  proto[kPatched] = true;
  const probe = express.Router();
  probe.use(function probeLayer() {});
  const layerProto = Object.getPrototypeOf(probe.stack[0]) as Layer5;

  const originalUse = proto.use as Fn;
  proto.use = wrapUse(originalUse);
  proto.handle = wrapHandle(proto.handle as Fn, originalUse);

  const originalHandleRequest = layerProto.handleRequest;
  layerProto.handleRequest = function meterlineHandleRequest(
    this: Layer5,
    req: Request,
    res: Response,
    next: unknown,
  ) {
    const state = stateOf(res);
    if (state !== undefined) {
      try {
        const adapter = ownerOf(state);
        if (adapter !== undefined) {
          if (this.route !== undefined) onRoute(adapter, state, this, req, matchedEntry);
          else if (this.slash !== true && this.rawPath !== '/' && this.rawPath !== undefined)
            onMount(state, req, mountPattern(matchedPattern(req) ?? this.rawPath));
        }
      } catch (err) {
        reportOnce('express route tracking', err);
      }
    }
    return originalHandleRequest.call(this, req, res, next);
  };
  layerProto.handleError = wrapHandleError(layerProto.handleError);
}
