export { series, type Labels, type Scrape } from '@meterline/testing';
import { afterAll, beforeAll } from 'vitest';
import type Koa from 'koa';
import { listening, metricsAt, type RunningServer, type Scrape } from '@meterline/testing';

export const DURATION = 'http_server_request_duration_seconds';

export type Running = RunningServer;

export function listen(app: Koa): Promise<Running> {
  return listening(app.listen(0, '127.0.0.1'));
}

/** The app `build` makes, listening for the tests of this file: filled in before they run, closed after. */
export function served(build: () => Koa): Running {
  const running = {} as Running;
  beforeAll(async () => {
    Object.assign(running, await listen(build()));
  });
  afterAll(() => running.close());
  return running;
}

export function scrape(running: Running, path = '/metrics'): Promise<Scrape> {
  return metricsAt(running.url + path);
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
