import { IncomingMessage, type ServerResponse } from 'node:http';
import { leaveOut } from './sockets.js';

/**
 * Requests injected without a network (Fastify's `inject()`, light-my-request) count like real ones: their fake
 * socket stays out of the network counters, their body (a plain Readable, not an IncomingMessage whose `push` is
 * counted) is counted through the same `push`, and an ended response is complete (its socket flushes
 * asynchronously, so `writableFinished` is still false when it closes).
 */
export function prepareInjected(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as object | null;
  if (socket !== null) leaveOut(socket);
  if (!(req instanceof IncomingMessage)) (req as { push: unknown }).push = IncomingMessage.prototype.push;
  Object.defineProperty(res, 'writableFinished', { configurable: true, get: injectedFinished });
}

function injectedFinished(this: ServerResponse): boolean {
  return this.writableEnded;
}
