import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setRoute, withMetrics } from '@meterline/core';
import { driveLoad, sampleService } from '@meterline/testing';

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
  const server: Server = createServer(withMetrics(sampleService(setRoute, LOAD.flakyFailEvery)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stopLoad = driveLoad(url, {
    '/api/users': LOAD.users,
    '/api/flaky': LOAD.flaky,
    '/api/slow': LOAD.slow,
  });
  return {
    url,
    async stop() {
      stopLoad();
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
