// Preload: Server#emit wrapped, one state object allocated per request and kept in a variable (no property added).
import { Server } from 'node:http';
import { State } from './state.mjs';

const emit = Server.prototype.emit;
let last;
Server.prototype.emit = function allocEmit(type, req, res) {
  if (type === 'request') last = new State(1);
  return emit.apply(this, arguments);
};
globalThis.__last = () => last;
