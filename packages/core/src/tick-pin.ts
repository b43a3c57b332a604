import { createHook } from 'node:async_hooks';

// Keeps one of Node's own tick objects alive for the life of the process. While none is alive, a garbage collection
// clears the object shape that `process.nextTick` builds its tick objects with, and V8 then builds every later one
// through its runtime: several µs per request in frameworks that schedule ticks per request (bench/RESULTS.md,
// "Node's tick objects"). Runs when core is first imported, before anything of meterline allocates, so this module
// imports nothing of meterline; a failure is kept for the recorder to report. Never schedule thousands of ticks at
// once here: with the shape held, their surviving a scavenge makes V8 allocate every later tick in the old generation.

let pinned: object | undefined;
let failure: unknown;

function capture(_id: number, type: string, _trigger: number, resource: object): void {
  if (type === 'TickObject' && pinned === undefined) pinned = resource;
}

function noop(): void {}

function pin(): void {
  try {
    const hook = createHook({ init: capture }).enable();
    try {
      process.nextTick(noop);
    } finally {
      hook.disable();
    }
    if (pinned === undefined) failure = new Error('no tick object was created by process.nextTick');
  } catch (error) {
    failure = error;
  }
}

pin();

/** Whether a tick object is held, and why not when it is not (reported once by the first recorder). */
export function tickPin(): { pinned: boolean; failure: unknown } {
  return { pinned: pinned !== undefined, failure };
}
