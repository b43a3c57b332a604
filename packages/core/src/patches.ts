import { IncomingMessage, ServerResponse } from 'node:http';
// the module binding, not the global: `globalThis.performance` is an accessor, read through an IC on every call
import { performance } from 'node:perf_hooks';
import { clearReserved, lookup } from './measured.js';
import { reportOnce } from './report.js';
import { hasBody } from './request-head.js';
import { kState, type RequestState } from './request-state.js';

const kPatched: unique symbol = Symbol.for('meterline.patched') as any;

function chunkLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk !== null && typeof chunk === 'object' && typeof (chunk as Uint8Array).byteLength === 'number') {
    return (chunk as Uint8Array).byteLength;
  }
  return 0;
}

function onResponseClose(res: ServerResponse, state: RequestState): void {
  try {
    state.recorder.finish(state, res);
  } catch (err) {
    reportOnce('request finish', err);
  }
}

/**
 * Patch Node's request/response prototypes once per process (whichever copy of core comes first):
 * completion ('close', finished or aborted), the status the head was written with, and body bytes where they
 * pass: what the parser pushes into a request (after transfer decoding) and what the app writes into a response
 * (after compression, as on the wire; nothing for HEAD, 204 and 304, where Node drops the body).
 */
export function installPatches(): void {
  const resProto = ServerResponse.prototype as any;
  if (resProto[kPatched] === true) return;
  resProto[kPatched] = true;
  // every response emits 'close' exactly once, finished or aborted: a comparison per emit, no listener per request
  const originalEmit = resProto.emit;
  resProto.emit = function meterlineEmit(this: any, type: unknown) {
    if (type === 'close') {
      clearReserved(this); // reserved, never measured
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
    // `ended` stands for writableEnded: set before the first end() runs (nothing counted twice), undone if it throws
    if (state === undefined || state.ended) return originalEnd.apply(this, arguments);
    state.ended = true;
    let result;
    try {
      result = originalEnd.apply(this, arguments);
    } catch (err) {
      state.ended = false;
      throw err;
    }
    if (state.status === 0) state.status = this.statusCode;
    if (typeof chunk !== 'function' && hasBody(state)) state.responseBytes += chunkLength(chunk, encoding);
    return result;
  };
  // Node's end() calls `this.writeHead(this.statusCode)` for the implicit head; Fastify calls it with its status
  const originalWriteHead = resProto.writeHead;
  resProto.writeHead = function meterlineWriteHead(this: any, statusCode: unknown) {
    const result = originalWriteHead.apply(this, arguments);
    const state = lookup(this);
    if (state !== undefined && state.status === 0) {
      const code = (statusCode as number) | 0;
      if (code >= 100 && code <= 999) state.status = code;
      // time to first byte: the one clock read per request it costs, only when asked for
      if (state.recorder.timeToFirstByte === true) state.headAt = performance.now();
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
