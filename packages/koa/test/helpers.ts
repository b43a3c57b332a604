export { series, type Scrape } from '@meterline/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { scrape as scrapeUrl, type Scrape } from '@meterline/testing';

export const DURATION = 'http_server_request_duration_seconds';

export interface Running {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function listen(app: Koa): Promise<Running> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function scrape(running: Running, path = '/metrics'): Promise<Scrape> {
  const r = await scrapeUrl(running.url + path);
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
  return r.scrape;
}

/** A request whose body is read to the end; resolves with status and body. */
export async function get(running: Running, path: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(running.url + path, init);
  return { status: res.status, body: await res.text() };
}

/**
 * Scrape once the duration histogram counts `total` requests (a response is counted when it closes on the
 * server, which can be just after the client has read it).
 */
export async function settled(running: Running, total: number, path = '/metrics'): Promise<Scrape> {
  let last = await scrape(running, path);
  const until = Date.now() + 3000;
  while (last.totalCount(DURATION) < total && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
    last = await scrape(running, path);
  }
  return last;
}
