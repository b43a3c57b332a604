import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:net';
import { reportOnce } from './report.js';
import { methodIndex } from './request-head.js';
import type { HttpStore } from './store.js';

// WebSocket upgrades and CONNECT tunnels that a server hands to its 'upgrade'/'connect' listeners never reach the
// app (nor the request metrics): they are counted in `meterline.http.server.upgrades`. Node treats a server with
// such a listener differently from one without (without, it answers or closes those requests itself), so meterline
// listens only next to a listener of the app's own, and stops when the app's last one goes.

const EVENTS = ['upgrade', 'connect'] as const;

/** Count the upgrades and tunnels of a server meterline measures (once per server; called when it is first seen). */
export function watchUpgrades(store: HttpStore, server: Server): void {
  if (typeof server.prependListener !== 'function' || typeof server.listenerCount !== 'function') return;
  const count = function meterlineUpgrade(req: IncomingMessage): void {
    try {
      store.upgrades[methodIndex(req.method)]++;
    } catch (err) {
      reportOnce('counting an upgrade', err);
    }
  };
  const ours = (event: string): boolean => server.listeners(event).includes(count);
  for (const event of EVENTS) if (server.listenerCount(event) > 0) server.prependListener(event, count);
  server.on('newListener', (event: string | symbol, listener: unknown) => {
    if ((event === 'upgrade' || event === 'connect') && listener !== count && !ours(event)) {
      server.prependListener(event, count);
    }
  });
  server.on('removeListener', (event: string | symbol, listener: unknown) => {
    // ours alone would make Node leave those requests unanswered
    if (
      (event === 'upgrade' || event === 'connect') &&
      listener !== count &&
      server.listenerCount(event) === 1
    ) {
      if (ours(event)) server.removeListener(event, count);
    }
  });
}
