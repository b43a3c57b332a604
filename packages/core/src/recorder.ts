import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
// the module binding, not the global: `globalThis.performance` is an accessor, read through an IC on every call
import { performance } from 'node:perf_hooks';
import { ERROR_ABORTED } from './constants.js';
import { METHOD_INDEX } from './http-metrics.js';
import { errorTypeOf, statusErrorType } from './error-type.js';
import { clearReserved, lastStarted, lookup, markCounted, markStarted } from './measured.js';
import { installPatches } from './patches.js';
import { reportOnce } from './report.js';
import { newState } from './request-head.js';
import { kState, type RequestState, type WithState } from './request-state.js';
import { reserveRequests } from './reservation.js';
import { tickPin } from './tick-pin.js';
import { isTracked, trackSocket } from './sockets.js';
import type { HttpStore } from './store.js';
import { activeSampledSpan } from './trace-context.js';

const CONNECT_INDEX = METHOD_INDEX.CONNECT;

/**
 * The request lifecycle on Node's IncomingMessage/ServerResponse, for every framework: counts each request exactly
 * once when its response emits 'close' (finished or aborted), keeps in-flight exact, and has the server's sockets
 * tracked for the network counters. Body bytes and the status are gathered by the prototype patches.
 */
export class RequestRecorder {
  /** read at writeHead: take the time of the head (the `timeToFirstByte` option) */
  readonly timeToFirstByte: boolean;
  constructor(readonly store: HttpStore) {
    this.timeToFirstByte = store.timeToFirstByte;
    installPatches();
    const pin = tickPin();
    if (!pin.pinned) reportOnce('tick-pin', pin.failure);
  }

  /**
   * Begin measuring a request. Idempotent; never throws. `reserve`: give every later request of this server its
   * state before the framework sees it (see reservation.ts), for frameworks that swap `req`/`res` prototypes.
   */
  start(req: IncomingMessage, res: ServerResponse, reserve = false): RequestState | undefined {
    const last = lastStarted(res);
    if (last !== undefined) return last;
    const existing = lookup(res);
    clearReserved(res);
    if (existing !== undefined && !existing.pending) return existing;
    try {
      let state: RequestState;
      if (existing !== undefined) {
        // reserved by the server's first 'request' listener: the request head is read already
        state = existing;
        state.pending = false;
        state.done = false;
        state.recorder = this;
        state.requestBytes = 0;
        state.responseBytes = 0;
        state.start = performance.now();
      } else {
        state = newState(this, req, false);
        state.ended = res.writableEnded === true;
        (res as WithState)[kState] = state;
        (req as WithState)[kState] = state;
      }
      markStarted(res, state);
      state.span = activeSampledSpan();
      const slot = state.method * 2 + state.scheme;
      this.store.active[slot]++;
      this.store.activeSeen[slot] = 1;
      const socket = state.socket;
      if (socket !== null) {
        state.socket = null;
        if (!isTracked(socket)) trackSocket(this.store, socket);
        // a request that was not reserved: its server may not reserve yet (checked once per such request)
        if (reserve && existing === undefined) reserveRequests(this, (socket as { server?: Server }).server);
      }
      return state;
    } catch (err) {
      reportOnce('request start', err);
      return undefined;
    }
  }

  /** Count a request, once, when its response closes (finished or aborted). */
  finish(state: RequestState, res: ServerResponse): void {
    if (state.done) return;
    state.done = true;
    markCounted(res, state);
    const owner = state.owner;
    if (owner !== undefined && owner.beforeCount !== undefined) {
      try {
        owner.beforeCount(state);
      } catch (err) {
        reportOnce('adapter before count', err);
      }
    }
    const store = this.store;
    store.active[state.method * 2 + state.scheme]--;
    if (state.excluded) return;
    const duration = (performance.now() - state.start) / 1000;
    // each read of res is a cache miss where every response has its own map: read each once;
    // a returned end() has sent the headers
    const status = state.status !== 0 ? state.status : state.ended || res.headersSent ? res.statusCode : 0;
    let errorType: string | undefined;
    if (!state.finished && !res.writableFinished) errorType = ERROR_ABORTED;
    else if (status >= 500)
      errorType = state.error !== undefined ? errorTypeOf(state.error) : statusErrorType(status);
    const code = status > 0 && status < 1000 ? status : 0;
    // a switched protocol or a tunnel lasts as long as the connection: counted, kept out of the latency
    if (code === 101 || state.method === CONNECT_INDEX) {
      store.upgrades[state.method]++;
      return;
    }
    const route = state.route === undefined ? store.noRoute : state.route;
    const guard = owner === undefined ? undefined : owner.attributeGuard;
    const extra = guard === undefined ? undefined : guard.evaluate(res);
    const series = store.series(route, state.method, state.scheme, state.protocol, code, errorType, extra);
    const bucket = series.duration.record(duration);
    if (state.span !== undefined) series.duration.exemplar(bucket, duration, state.span);
    series.requestSize.record(state.requestBytes);
    series.responseSize.record(state.responseBytes);
    const ttfb = series.timeToFirstByte;
    if (ttfb !== undefined && state.headAt !== 0) ttfb.record((state.headAt - state.start) / 1000);
  }
}
