/**
 * Express 5: the `router` package's prototypes (Router.prototype.use/handle, Layer.prototype.handleRequest/
 * handleError). Its layers keep their raw path and the request notes the pattern of an array that matched.
 */
import type { Request } from 'express';
import type { RequestState } from '@meterline/core/adapter';
import type { Fn } from './measured-router.js';
import { patchRouter } from './patch-router.js';
import { onMount } from './route-report.js';
import { mountPattern } from './route-template.js';

interface Layer5 {
  route?: { path: unknown };
  rawPath?: unknown;
  slash?: boolean;
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

function routeEntry(layer: Layer5, req: Request): unknown {
  return matchedPattern(req) ?? (layer.route as { path: unknown }).path;
}

/** A mount (not the catch-all '/') entered: its raw path, or the entry of an array that matched. */
function onLayer(layer: Layer5, state: RequestState, req: Request): void {
  if (layer.slash !== true && layer.rawPath !== '/' && layer.rawPath !== undefined)
    onMount(state, req, mountPattern(matchedPattern(req) ?? layer.rawPath));
}

export function patchRouter5(express: Express5): void {
  patchRouter({
    proto: express.Router.prototype,
    newRouter: () => express.Router(),
    handleRequest: 'handleRequest',
    handleError: 'handleError',
    routeEntry,
    onLayer,
  });
}
