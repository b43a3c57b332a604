import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setRoute, withMetrics } from '@meterline/core';

// A demo-like service measured by meterline and a known load against it, for the end-to-end tests of `top`.

export const LOAD = {
  /** requests per second per route */
  users: 20,
  flaky: 10,
  slow: 4,
  /** one in this many /api/flaky requests fails (500) */
  flakyFailEvery: 5,
};

export interface LoadedService {
  url: string;
  stop(): Promise<void>;
}

export async function startLoadedService(): Promise<LoadedService> {
  let flaky = 0;
  const server: Server = createServer(
    withMetrics((req, res) => {
      if (req.url === '/api/users') {
        setRoute(req, '/api/users');
        res.end('[]');
      } else if (req.url === '/api/flaky') {
        setRoute(req, '/api/flaky');
        res.statusCode = ++flaky % LOAD.flakyFailEvery === 0 ? 500 : 200;
        res.end('flaky');
      } else if (req.url === '/api/slow') {
        setRoute(req, '/api/slow');
        setTimeout(() => res.end('slow'), 120);
      } else {
        res.statusCode = 404;
        res.end();
      }
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const timers = Object.entries({ users: LOAD.users, flaky: LOAD.flaky, slow: LOAD.slow }).map(
    ([route, rps]) =>
      setInterval(
        () =>
          void fetch(`${url}/api/${route}`).then(
            (r) => r.arrayBuffer(),
            () => undefined,
          ),
        1000 / rps,
      ),
  );
  return {
    url,
    async stop() {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A port nothing listens on (a target that is down). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
