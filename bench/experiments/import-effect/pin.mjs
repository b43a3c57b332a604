// Keep one of Node's own tick objects alive, so that a GC cannot clear the maps its literal makes.
import { createHook } from 'node:async_hooks';
let captured;
const hook = createHook({
  init(id, type, trigger, resource) {
    if (type === 'TickObject' && captured === undefined) captured = resource;
  },
}).enable();
process.nextTick(() => {});
hook.disable();
if (captured === undefined) throw new Error('no tick object');
globalThis.__pin = captured;
