// Preload: Server#emit wrapped, one state object per request kept on req and res under a symbol (as core does).
import { Server } from 'node:http';
import { State } from './state.mjs';

const kState = Symbol.for('experiment.state');
const emit = Server.prototype.emit;
Server.prototype.emit = function tagEmit(type, req, res) {
  if (type === 'request') req[kState] = res[kState] = new State(1);
  return emit.apply(this, arguments);
};
