import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { METHOD_INDEX, OTHER_INDEX, PROTOCOL_INDEX } from './http-metrics.js';
import type { RequestRecorder } from './recorder.js';
import { RequestState } from './request-state.js';

const GET_INDEX = METHOD_INDEX.GET;
const POST_INDEX = METHOD_INDEX.POST;
const HEAD_INDEX = METHOD_INDEX.HEAD;

/** Index of a request method: GET and POST by identity (the parser's method strings are constants), else the table. */
export function methodIndex(method: unknown): number {
  if (method === 'GET') return GET_INDEX;
  if (method === 'POST') return POST_INDEX;
  const m = METHOD_INDEX[method as string];
  return m === undefined ? OTHER_INDEX : m;
}

/** Index of the protocol version, from the parser's numbers (`req.httpVersion` is a string built per request). */
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

/** A request's state from its head (read once, where `req` is cheapest to read). */
export function newState(recorder: RequestRecorder, req: IncomingMessage, pending: boolean): RequestState {
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

/**
 * Whether Node sends a body for this response (its `_hasBody`, derived instead of read): not for HEAD requests,
 * nor for 1xx, 204 and 304 responses.
 */
export function hasBody(state: RequestState): boolean {
  const s = state.status;
  return state.method !== HEAD_INDEX && s !== 204 && s !== 304 && (s < 100 || s > 199);
}
