import { IncomingMessage, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
// the module binding, not the global: `globalThis.performance` is an accessor, read through an IC on every call
import { performance } from 'node:perf_hooks';
import { ERROR_ABORTED, OTHER_METHOD } from './constants.js';
import { reportOnce } from './report.js';
import type { AttributeGuard } from './attributes.js';
import {
  HttpStore,
  METHOD_INDEX,
  OTHER_INDEX,
  PROTOCOL_INDEX,
  type PortGroup,
  type RouteKey,
} from './store.js';

/**
 * Per-request state, one small object per request, kept on both `req` and `res` under a registered symbol
 * (so two copies of core in one process agree that a request is already being measured).
 */
export class RequestState {
  route: RouteKey | undefined = undefined;
  error: unknown = undefined;
  requestBytes = 0;
  responseBytes = 0;
  excluded = false;
  /** counted already, or not measured yet (pending): the response's 'close' is then ignored */
  done: boolean;
  /**
   * Reserved for the request when the server handed it over, not measured (yet): `start()` turns it into the
   * measured state. `stateOf()` reports a pending state as undefined.
   */
  pending: boolean;
  /** a call of the response's `end()` has returned (the response's `writableEnded`, kept here to read it once) */
  ended = false;
  /** the status code the response's head was written with (`writeHead`'s argument), else read at `end()` (0: not yet) */
  status = 0;
  /** the response emitted 'finish' (everything was handed to the socket): a 'close' then is not an abort */
  finished = false;
  /** the response is among the recently started ones searched by identity (see `lookup`) */
  remembered = false;
  /** the adapter that measures this request */
  owner: unknown = undefined;
  /** free slot for the adapter (e.g. the Express mount-path stack) */
  scratch: unknown = undefined;
  /** the request's URL as the server handed it over (read while `req` still has Node's map; see `reservedUrl`) */
  url: string | undefined = undefined;
  /**
   * Called once just before the request is counted (finished or aborted), for adapters that learn the route
   * late. A shared function, not a closure per request.
   */
  beforeFinish: ((state: RequestState) => void) | undefined = undefined;
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

export const kState: unique symbol = Symbol.for('meterline.request.state') as any;

/**
 * The responses measured most recently whose prototype was swapped (Express does it for every response), searched
 * by identity before reading `res[kState]`. Such a response gets a V8 map of its own, so a property read on it
 * that V8 has not seen on that map yet misses every inline and stub cache and looks the property up in the runtime
 * (~0.5 µs); its 'finish' and 'close' usually come while it is still among the last few started, and a scan of a
 * few identities is far cheaper. Responses with Node's prototype share their map and are left out (keeping them
 * here measured slower than the property read). Entries are cleared when the request is counted.
 */
const RECENT = 16;
const recentRes: (object | undefined)[] = new Array(RECENT).fill(undefined);
const recentState: (RequestState | undefined)[] = new Array(RECENT).fill(undefined);
let recentNext = 0;

function remember(res: object, state: RequestState): void {
  recentRes[recentNext] = res;
  recentState[recentNext] = state;
  recentNext = (recentNext + 1) & (RECENT - 1);
}

/**
 * The state kept for a response (measured or pending), or undefined. A response that still has Node's prototype
 * shares its map with the others, and its property is read fast; the scan is for the others (Express swaps it).
 */
function lookup(res: object): RequestState | undefined {
  if (res === lastRes) return lastState;
  if (res === reservedRes) return reservedState;
  if (Object.getPrototypeOf(res) !== ServerResponse.prototype) {
    for (let i = 0; i < RECENT; i++) if (recentRes[i] === res) return recentState[i];
  }
  return (res as WithState)[kState];
}

function forget(res: object): void {
  for (let i = 0; i < RECENT; i++) {
    if (recentRes[i] === res) {
      recentRes[i] = undefined;
      recentState[i] = undefined;
      return;
    }
  }
}
const kConnection: unique symbol = Symbol.for('meterline.socket.group') as any;
const kConnectionStart: unique symbol = Symbol.for('meterline.socket.start') as any;
const kServerTracked: unique symbol = Symbol.for('meterline.server.tracked') as any;
const kServerReserves: unique symbol = Symbol.for('meterline.server.reserves') as any;
const kPatched: unique symbol = Symbol.for('meterline.patched') as any;

type WithState = { [kState]?: RequestState };

/**
 * The response whose measurement started last and its state (until it is counted). The router hooks and the
 * `end()` patch usually run for the response that started last, and an identity check answers them without the
 * lookup. Always equal to `lastRes[kState]`: a started state is never replaced.
 */
let lastRes: object | undefined;
let lastState: RequestState | undefined;
/**
 * The response reserved last by a server's first 'request' listener and its pending state, until `start()` takes
 * it: the framework's handler runs right after that listener, so `start()` finds the state without reading it.
 */
let reservedRes: object | undefined;
let reservedState: RequestState | undefined;

/** The state of a request being measured, or undefined. */
export function stateOf(res: ServerResponse | IncomingMessage): RequestState | undefined {
  const state = lookup(res);
  return state === undefined || state.pending ? undefined : state;
}

const GET_INDEX = METHOD_INDEX.GET;
const POST_INDEX = METHOD_INDEX.POST;

/** Index of a request method: GET and POST by identity (the parser's method strings are constants), else the table. */
function methodIndex(method: unknown): number {
  if (method === 'GET') return GET_INDEX;
  if (method === 'POST') return POST_INDEX;
  const m = METHOD_INDEX[method as string];
  return m === undefined ? OTHER_INDEX : m;
}

/**
 * Index of the protocol version, from the parser's numbers: `req.httpVersion` is a string built per request, and
 * looking it up in a table first searches V8's string table for it.
 */
function protocolIndex(req: IncomingMessage): number {
  const major = req.httpVersionMajor;
  const minor = req.httpVersionMinor;
  if (major === 1) return minor === 1 ? 1 : minor === 0 ? 0 : 3;
  if (major === 2) return minor === 0 ? 2 : 3;
  if (major === undefined) {
    const p = PROTOCOL_INDEX[req.httpVersion];
    return p === undefined ? 3 : p;
  }
  return 3;
}

/** The state fields computed from the request head (read once, where `req` is cheapest to read). */
function newState(recorder: RequestRecorder, req: IncomingMessage, pending: boolean): RequestState {
  const socket = req.socket;
  const scheme = socket !== null && (socket as { encrypted?: boolean }).encrypted === true ? 1 : 0;
  return new RequestState(
    recorder,
    pending ? 0 : performance.now(),
    methodIndex(req.method),
    scheme,
    protocolIndex(req),
    socket,
    pending,
  );
}

const HEAD_INDEX = METHOD_INDEX.HEAD;

/**
 * Whether Node sends a body for this response (its `_hasBody`, derived instead of read: every read of a property
 * of an Express response is a miss in V8's caches): not for HEAD requests, nor for 1xx, 204 and 304 responses.
 */
function hasBody(state: RequestState): boolean {
  const s = state.status;
  return state.method !== HEAD_INDEX && s !== 204 && s !== 304 && (s < 100 || s > 199);
}

/**
 * The URL a request had when the server handed it over, if it is the request reserved last (see `reserveState`),
 * else undefined. Express has swapped the prototype of `req` by the time its router runs, and from then on every
 * read of `req` misses V8's caches; this string was read before that.
 */
export function reservedUrl(res: ServerResponse): string | undefined {
  return res === reservedRes && reservedState !== undefined ? reservedState.url : undefined;
}

const STATUS_STRINGS: string[] = [];
for (let s = 0; s < 1000; s++) STATUS_STRINGS.push(String(s));

/** `error.type` for a thrown value: the exception's class name, as semantic conventions ask. */
export function errorTypeOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const ctor = (error as { constructor?: { name?: unknown } }).constructor;
    if (ctor !== undefined && typeof ctor.name === 'string' && ctor.name !== '' && ctor.name !== 'Object') {
      return ctor.name;
    }
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return OTHER_METHOD;
}

/**
 * Framework-agnostic request lifecycle recorder on Node's IncomingMessage/ServerResponse. Counts every request
 * exactly once when its response emits 'close' (finished or aborted), keeps in-flight exact, counts body bytes as they
 * pass and tracks the server's sockets for the network counters.
 */
export class RequestRecorder {
  constructor(readonly store: HttpStore) {
    installPatches();
  }

  /**
   * Begin measuring a request. Idempotent; never throws. `reserve`: give every later request of this server its
   * state before the framework sees it (see `reserveState`), for frameworks that swap the prototypes of
   * `req`/`res` (Express); others do not need it and skip the extra 'request' listener.
   */
  start(req: IncomingMessage, res: ServerResponse, reserve = false): RequestState | undefined {
    if (res === lastRes) return lastState;
    const existing = lookup(res);
    if (res === reservedRes) reservedRes = reservedState = undefined;
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
      if (Object.getPrototypeOf(res) !== ServerResponse.prototype) {
        remember(res, state);
        state.remembered = true;
      }
      lastRes = res;
      lastState = state;
      this.store.active[state.method * 2 + state.scheme]++;
      this.store.activeSeen[state.method * 2 + state.scheme] = 1;
      // completion is seen by the patched ServerResponse.prototype.emit('close'): no listener per request
      const socket = state.socket;
      if (socket !== null) {
        state.socket = null;
        if ((socket as any)[kConnection] === undefined) this.trackSocket(socket);
        // a request that was not reserved: its server may not reserve yet (checked once per such request)
        if (reserve && existing === undefined) this.reserveRequests((socket as { server?: Server }).server);
      }
      return state;
    } catch (err) {
      reportOnce('request start', err);
      return undefined;
    }
  }

  /** Measure sockets of the request's server from now on, including those that never send a request. */
  private trackSocket(socket: Socket): void {
    const server = (socket as { server?: Server }).server;
    if (server !== undefined && server !== null && (server as any)[kServerTracked] === undefined) {
      (server as any)[kServerTracked] = true;
      const recorder = this;
      server.on('connection', function onConnection(s: Socket) {
        if ((s as any)[kConnection] === undefined) recorder.addSocket(s);
      });
    }
    this.addSocket(socket);
  }

  /** Reserve a state for every later request of this server (once per server; see `reserveState`). */
  private reserveRequests(server: Server | undefined): void {
    if (server === undefined || server === null || (server as any)[kServerReserves] !== undefined) return;
    (server as any)[kServerReserves] = true;
    if (typeof (server as { prependListener?: unknown }).prependListener !== 'function') return;
    const recorder = this;
    // first in line for every later request of this server; one function per server
    server.prependListener('request', function reserve(req: IncomingMessage, res: ServerResponse) {
      reserveState(recorder, req, res);
    });
  }

  addSocket(socket: Socket): void {
    const unix = socket.localPort === undefined;
    const group = this.store.portGroup(unix ? undefined : socket.localPort, unix ? 'unix' : 'tcp');
    (socket as any)[kConnection] = group;
    (socket as any)[kConnectionStart] = performance.now();
    group.live.add(socket);
    socket.on('close', onSocketClose);
  }

  /** Called once per request when its response closes. */
  finish(state: RequestState, res: ServerResponse): void {
    if (state.done) return;
    state.done = true;
    if (state === lastState) lastRes = lastState = undefined;
    if (state.remembered) forget(res);
    if (state.beforeFinish !== undefined) {
      try {
        state.beforeFinish(state);
      } catch (err) {
        reportOnce('adapter before finish', err);
      }
    }
    const store = this.store;
    store.active[state.method * 2 + state.scheme]--;
    if (state.excluded) return;
    const duration = (performance.now() - state.start) / 1000;
    // each read of res is a cache miss in frameworks that give every response its own map: read each once;
    // a returned end() has sent the headers
    const status = state.status !== 0 ? state.status : state.ended || res.headersSent ? res.statusCode : 0;
    let errorType: string | undefined;
    if (!state.finished && !res.writableFinished) errorType = ERROR_ABORTED;
    else if (status >= 500)
      errorType = state.error !== undefined ? errorTypeOf(state.error) : STATUS_STRINGS[status];
    const route = state.route === undefined ? store.noRoute : state.route;
    const code = status > 0 && status < 1000 ? status : 0;
    const guard = (state.owner as { attributeGuard?: AttributeGuard } | undefined)?.attributeGuard;
    const extra = guard === undefined ? undefined : guard.evaluate(res);
    const series =
      extra === undefined
        ? store.series(route, state.method, state.scheme, state.protocol, code, errorType)
        : store.seriesWithExtra(route, state.method, state.scheme, state.protocol, code, errorType, extra);
    series.duration.record(duration);
    series.requestSize.record(state.requestBytes);
    series.responseSize.record(state.responseBytes);
  }
}

/**
 * Give every request of a measured server its state, pending, before the framework sees it. Express swaps the
 * prototypes of `req`/`res` per request, after which V8 gives each of them a map of its own: adding a property
 * then builds yet another map (microseconds, and every later property access of the framework misses its caches
 * again), and every read of `req` misses the inline caches once. Here, while `req`/`res` still share their maps
 * with every other request, adding the slot and reading the request head are nearly free; `start()` then only
 * flips the pending state to measured, reading nothing from `req`.
 */
function reserveState(recorder: RequestRecorder, req: IncomingMessage, res: ServerResponse): void {
  if ((res as WithState)[kState] === undefined) {
    const state = newState(recorder, req, true);
    state.url = req.url;
    (req as WithState)[kState] = state;
    (res as WithState)[kState] = state;
    reservedRes = res;
    reservedState = state;
  }
}

function onResponseClose(res: ServerResponse, state: RequestState): void {
  try {
    state.recorder.finish(state, res);
  } catch (err) {
    reportOnce('request finish', err);
  }
}

function onSocketClose(this: Socket): void {
  try {
    const group = (this as any)[kConnection] as PortGroup | undefined;
    if (group === undefined || !group.live.delete(this)) return;
    group.closedRead += this.bytesRead;
    group.closedWritten += this.bytesWritten;
    group.connectionDuration.record((performance.now() - (this as any)[kConnectionStart]) / 1000);
  } catch (err) {
    reportOnce('socket close', err);
  }
}

function chunkLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk !== null && typeof chunk === 'object' && typeof (chunk as Uint8Array).byteLength === 'number') {
    return (chunk as Uint8Array).byteLength;
  }
  return 0;
}

/**
 * Count body bytes where they pass, once per process: what the HTTP parser pushes into a request (body after
 * transfer decoding) and what the application writes into a response (after any compression middleware, as on
 * the wire; nothing for HEAD, 204 and 304, where Node drops the body).
 */
function installPatches(): void {
  const resProto = ServerResponse.prototype as any;
  if (resProto[kPatched] === true) return;
  resProto[kPatched] = true;
  // Every response emits 'close' exactly once, finished or aborted (Node's resOnFinish -> emitCloseNT, or the
  // socket closing under it); catching it here costs a comparison per emit instead of a listener per request.
  const originalEmit = resProto.emit;
  resProto.emit = function meterlineEmit(this: any, type: unknown) {
    if (type === 'close') {
      if (this === reservedRes) reservedRes = reservedState = undefined; // reserved, never measured
      const state = lookup(this);
      if (state !== undefined && !state.done) onResponseClose(this, state);
    } else if (type === 'finish') {
      const state = lookup(this);
      if (state !== undefined) state.finished = true;
    }
    return originalEmit.apply(this, arguments);
  };
  const originalWrite = resProto.write;
  const originalEnd = resProto.end;
  resProto.write = function meterlineWrite(this: any, chunk: unknown, encoding: unknown, _cb: unknown) {
    const result = originalWrite.apply(this, arguments);
    const state = lookup(this);
    // the head is written by now (write() sends it), so its status is known
    if (state !== undefined && (state.status !== 0 ? hasBody(state) : this._hasBody !== false))
      state.responseBytes += chunkLength(chunk, encoding);
    return result;
  };
  resProto.end = function meterlineEnd(this: any, chunk: unknown, encoding: unknown, _cb: unknown) {
    const state = lookup(this);
    // `ended` stands for writableEnded (read once per response instead of per call): set before the first end()
    // runs, so nothing is counted twice, and cleared again if that end() throws
    if (state === undefined || state.ended) return originalEnd.apply(this, arguments);
    state.ended = true;
    let result;
    try {
      result = originalEnd.apply(this, arguments);
    } catch (err) {
      state.ended = false;
      throw err;
    }
    // normally known from writeHead (which end() calls for the implicit head); else read once, right away
    if (state.status === 0) state.status = this.statusCode;
    if (typeof chunk !== 'function' && hasBody(state)) state.responseBytes += chunkLength(chunk, encoding);
    return result;
  };
  // the status a response's head is written with, taken from the argument (Node's end() calls
  // `this.writeHead(this.statusCode)` for the implicit head; Fastify calls it with its status)
  const originalWriteHead = resProto.writeHead;
  resProto.writeHead = function meterlineWriteHead(this: any, statusCode: unknown) {
    const result = originalWriteHead.apply(this, arguments);
    const state = lookup(this);
    if (state !== undefined && state.status === 0) {
      const code = (statusCode as number) | 0;
      if (code >= 100 && code <= 999) state.status = code;
    }
    return result;
  };
  const reqProto = IncomingMessage.prototype as any;
  const originalPush = reqProto.push;
  reqProto.push = function meterlinePush(this: any, chunk: unknown, encoding: unknown) {
    if (chunk !== null) {
      // push(null) ends every request: no state read for it
      const state = this[kState] as RequestState | undefined;
      if (state !== undefined) state.requestBytes += chunkLength(chunk, encoding);
    }
    return originalPush.apply(this, arguments);
  };
}
