import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import { markReserved } from './measured.js';
import type { RequestRecorder } from './recorder.js';
import { newState } from './request-head.js';
import { kState, type WithState } from './request-state.js';

const kServerReserves: unique symbol = Symbol.for('meterline.server.reserves') as any;

/**
 * Give every later request of this server its state, pending, before the framework sees it (once per server).
 * Express swaps the prototypes of `req`/`res` per request; adding the slot and reading the request head while they
 * still share Node's maps is nearly free, afterwards each costs a cache miss. `start()` then only flips the state.
 */
export function reserveRequests(recorder: RequestRecorder, server: Server | undefined): void {
  if (server === undefined || server === null || (server as any)[kServerReserves] !== undefined) return;
  (server as any)[kServerReserves] = true;
  if (typeof (server as { prependListener?: unknown }).prependListener !== 'function') return;
  server.prependListener('request', function reserve(req: IncomingMessage, res: ServerResponse) {
    if ((res as WithState)[kState] === undefined) {
      const state = newState(recorder, req, true);
      state.url = req.url;
      (req as WithState)[kState] = state;
      (res as WithState)[kState] = state;
      markReserved(res, state);
    }
  });
}
