import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdapterCore } from './adapter.js';
import { stateOf } from './measured.js';
import { reportOnce } from './report.js';
import type { RequestState } from './request-state.js';
import type { CommonOptions } from './types.js';

/** Options of `withMetrics()`: the same as every middleware's. */
export type NodeMetricsOptions = CommonOptions;

/**
 * Per-route RED metrics for a plain Node server (`node:http`, or any framework not covered by an adapter):
 * `http.createServer(withMetrics(listener))`. Serves `GET /metrics` (the `path` option), measures every other
 * request; report each request's route template with `setRoute(req, '/users/:id')` from your routing code.
 * An exception the listener throws, or a rejection of the promise it returns, is recorded and passed on unchanged
 * (the wrapper returns what the listener returned, so your own catch still sees it).
 */
export function withMetrics(
  listener: (req: IncomingMessage, res: ServerResponse) => unknown,
  options: NodeMetricsOptions = {},
): (req: IncomingMessage, res: ServerResponse) => unknown {
  if (typeof listener !== 'function') {
    throw new TypeError(
      `meterline withMetrics(): listener is ${typeof listener}; expected a (req, res) function`,
    );
  }
  const adapter = new AdapterCore({ where: 'meterline withMetrics()' }, options);
  const call = listener as (this: unknown, req: IncomingMessage, res: ServerResponse) => unknown;
  return function meterlineListener(this: unknown, req: IncomingMessage, res: ServerResponse): unknown {
    let state: RequestState | undefined;
    try {
      if (adapter.isMetricsRequest(req.url)) {
        adapter.serveMetrics(req, res);
        return undefined;
      }
      state = adapter.start(req, res);
      if (state !== undefined && state.owner !== adapter) state = undefined;
    } catch (err) {
      reportOnce('node listener', err);
    }
    if (state === undefined) return call.call(this, req, res);
    const measured = state;
    let result: unknown;
    try {
      result = call.call(this, req, res);
    } catch (err) {
      adapter.setError(measured, err);
      throw err;
    }
    if (result === null || typeof (result as { then?: unknown })?.then !== 'function') return result;
    return (result as Promise<unknown>).then(undefined, (err: unknown) => {
      adapter.setError(measured, err);
      throw err;
    });
  };
}

/** Report the route template of a request measured by `withMetrics()` (ignored for requests it does not measure). */
export function setRoute(req: IncomingMessage, template: string): void {
  try {
    const state = stateOf(req);
    if (state !== undefined && state.owner !== undefined) state.owner.setRoute(state, template);
  } catch (err) {
    reportOnce('setRoute', err);
  }
}

/**
 * Report the exception a request failed with, when your framework answers it before a meterline adapter sees it
 * (an exception filter, an error interceptor): `error.type` becomes its class name if the answer is a 5xx.
 * Takes the request or the response; ignored for requests nobody measures.
 */
export function setError(reqOrRes: IncomingMessage | ServerResponse, error: unknown): void {
  try {
    const state = stateOf(reqOrRes);
    if (state !== undefined && state.owner !== undefined) state.owner.setError(state, error);
  } catch (err) {
    reportOnce('setError', err);
  }
}
