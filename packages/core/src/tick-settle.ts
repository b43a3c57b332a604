// Whether Node's tick objects are built in optimised code or through V8's runtime (several µs per request in
// frameworks that schedule ticks per request) depends on what ran before `process.nextTick` was optimised; running it
// a few thousand times with clean feedback settles it on the fast path (bench/results-archive.md, "the nextTick
// lottery"). Done once per process, when the first runtime is created: well under a millisecond.

const SETTLE_CALLS = 3000;
let settled = false;

function tick(): void {}

export function settleNextTick(): void {
  if (settled) return;
  settled = true;
  for (let i = 0; i < SETTLE_CALLS; i++) process.nextTick(tick, i);
}
