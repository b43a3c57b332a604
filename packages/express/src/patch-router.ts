/**
 * The router patch of both Express majors, applied once per process: the router's use/handle and its Layer's
 * request and error handlers. A major says only what differs (MajorPatch), so routes registered before
 * `metrics()` are covered on both.
 */
import { wrapHandle, wrapUse, type Fn } from './measured-router.js';
import {
  wrapHandleError,
  wrapHandleRequest,
  type LayerLike,
  type OnLayer,
  type RouteEntry,
} from './layer-hooks.js';

const kPatched = Symbol.for('meterline.express.patched');

/** What differs between Express 4 and 5. */
export interface MajorPatch<L extends LayerLike> {
  /** where the router's use/handle live (Express 4: the Router function, 5: Router.prototype) */
  proto: Record<string | symbol, any>;
  /** a new router, to find the Layer prototype on */
  newRouter: () => { use: Fn; stack: object[] };
  /** the names of the Layer's request and error handlers */
  handleRequest: string;
  handleError: string;
  /** wraps the `use()` that knows `metrics()` (Express 4 notes the path of each layer it adds) */
  use?: (metricsUse: Fn) => Fn;
  routeEntry: RouteEntry<L>;
  onLayer: OnLayer<L>;
}

export function patchRouter<L extends LayerLike>(major: MajorPatch<L>): void {
  const { proto } = major;
  if (proto[kPatched] === true) return;
  proto[kPatched] = true;
  const probe = major.newRouter();
  probe.use(function probeLayer() {});
  const layerProto = Object.getPrototypeOf(probe.stack[0]) as Record<string, Fn>;

  const originalUse = proto.use as Fn;
  const metricsUse = wrapUse(originalUse);
  proto.use = major.use === undefined ? metricsUse : major.use(metricsUse);
  proto.handle = wrapHandle(proto.handle as Fn, originalUse);
  const { handleRequest, handleError } = major;
  layerProto[handleRequest] = wrapHandleRequest(layerProto[handleRequest], major.routeEntry, major.onLayer);
  layerProto[handleError] = wrapHandleError(layerProto[handleError]);
}
