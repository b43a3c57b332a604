import type { SpanContext } from '@opentelemetry/api';
import type { Socket } from 'node:net';
import type { AdapterCore } from './adapter.js';
import type { RequestRecorder } from './recorder.js';
import type { RouteKey } from './series.js';

/** Registered symbol: two copies of core in one process agree that a request is already being measured. */
export const kState: unique symbol = Symbol.for('meterline.request.state') as any;

export type WithState = { [kState]?: RequestState };

/**
 * Per-request state, one small object per request, kept on both `req` and `res` under `kState`.
 * `S` is the adapter's own per-request data (`scratch`), typed by the adapter that owns the request.
 */
export class RequestState<S = unknown> {
  route: RouteKey | undefined = undefined;
  error: unknown = undefined;
  requestBytes = 0;
  responseBytes = 0;
  excluded = false;
  /** counted already, or not measured yet (pending): the response's 'close' is then ignored */
  done: boolean;
  /** reserved when the server handed the request over, not measured yet: `start()` turns it into measured */
  pending: boolean;
  /** a call of the response's `end()` has returned (its `writableEnded`, kept here to read it once) */
  ended = false;
  /** the status the head was written with (`writeHead`'s argument), else read at `end()`; 0: not yet */
  status = 0;
  /** when the response head was written (`performance.now()`), with the `timeToFirstByte` option only; 0: not */
  headAt = 0;
  /** the response emitted 'finish' (everything handed to the socket): a 'close' then is not an abort */
  finished = false;
  /** the response is in the ring of recently started ones searched by identity (see measured.ts) */
  remembered = false;
  /** the adapter that measures this request */
  owner: AdapterCore<S> | undefined = undefined;
  /** the adapter's own per-request data (e.g. the Express mount stack, the Koa context) */
  scratch: S | undefined = undefined;
  /** the request's URL as the server handed it over (read while `req` still had Node's map) */
  url: string | undefined = undefined;
  /** the sampled span active when the request started (only with a tracer provider): the exemplar's trace */
  span: SpanContext | undefined = undefined;
  constructor(
    public recorder: RequestRecorder,
    public start: number,
    readonly method: number,
    readonly scheme: number,
    readonly protocol: number,
    /** the request's socket, until `start()` has checked it is tracked */
    public socket: Socket | null,
    pending: boolean,
  ) {
    this.pending = pending;
    this.done = pending;
  }
}
