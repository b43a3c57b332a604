// Preload: Server#emit wrapped, nothing done per request (the baseline of tag.mjs and alloc.mjs).
import { Server } from 'node:http';

const emit = Server.prototype.emit;
Server.prototype.emit = function wrappedEmit(type, req, res) {
  return emit.apply(this, arguments);
};
