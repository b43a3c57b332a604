import { ServerResponse, type IncomingMessage } from 'node:http';
import { kState, type RequestState, type WithState } from './request-state.js';

// Which state belongs to a response, answered by identity where a property read would be slow: Express swaps the
// prototype of every response, giving it a V8 map of its own, so reading `res[kState]` misses every inline cache.

/** Size of the ring of recently started responses with a swapped prototype (a power of two). */
const RECENT = 16;
const recentRes: (object | undefined)[] = new Array(RECENT).fill(undefined);
const recentState: (RequestState | undefined)[] = new Array(RECENT).fill(undefined);
let recentNext = 0;

/** The response whose measurement started last and its state, until it is counted. */
let lastRes: object | undefined;
let lastState: RequestState | undefined;
/** The response reserved last by a server's first 'request' listener, until `start()` takes it. */
let reservedRes: object | undefined;
let reservedState: RequestState | undefined;

/** The state kept for a response (measured or pending), or undefined. */
export function lookup(res: object): RequestState | undefined {
  if (res === lastRes) return lastState;
  if (res === reservedRes) return reservedState;
  if (Object.getPrototypeOf(res) !== ServerResponse.prototype) {
    for (let i = 0; i < RECENT; i++) if (recentRes[i] === res) return recentState[i];
  }
  return (res as WithState)[kState];
}

/** The state of a request being measured (not pending), or undefined. */
export function stateOf(res: ServerResponse | IncomingMessage): RequestState | undefined {
  const state = lookup(res);
  return state === undefined || state.pending ? undefined : state;
}

/** The started state if `res` is the response that started last (an identity check, no lookup). */
export function lastStarted(res: object): RequestState | undefined {
  return res === lastRes ? lastState : undefined;
}

/** Record that measuring `res` has started; responses with a swapped prototype also go into the ring. */
export function markStarted(res: object, state: RequestState): void {
  if (Object.getPrototypeOf(res) !== ServerResponse.prototype) {
    recentRes[recentNext] = res;
    recentState[recentNext] = state;
    recentNext = (recentNext + 1) & (RECENT - 1);
    state.remembered = true;
  }
  lastRes = res;
  lastState = state;
}

/** Drop a counted response from the identity caches. */
export function markCounted(res: object, state: RequestState): void {
  if (state === lastState) lastRes = lastState = undefined;
  if (!state.remembered) return;
  for (let i = 0; i < RECENT; i++) {
    if (recentRes[i] === res) {
      recentRes[i] = undefined;
      recentState[i] = undefined;
      return;
    }
  }
}

/** Remember the response reserved last (the framework's handler runs right after the reserving listener). */
export function markReserved(res: object, state: RequestState): void {
  reservedRes = res;
  reservedState = state;
}

/** Forget the reservation of `res`, if it is the one reserved last (taken by `start()`, or closed unmeasured). */
export function clearReserved(res: object): void {
  if (res === reservedRes) reservedRes = reservedState = undefined;
}

/**
 * The URL a request had when the server handed it over, if it is the request reserved last, else undefined.
 * Express has swapped the prototype of `req` by the time its router runs; this string was read before that.
 */
export function reservedUrl(res: ServerResponse): string | undefined {
  return res === reservedRes && reservedState !== undefined ? reservedState.url : undefined;
}
