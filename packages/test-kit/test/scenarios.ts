/**
 * The conformance suite: one table of scenarios, run against every adapter over real HTTP on port 0. Each
 * framework's test file builds the same app (apps/<framework>.ts) and calls `conformance()`; each runs in its own
 * process, so each has its own meterline runtime. Where a framework truly differs, the difference is declared
 * in its `Differences` and documented in the root README.
 */
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortAfterHeaders,
  abortBeforeResponse,
  eventually,
  promtoolCheck,
  scrape,
  type Labels,
  type Scrape,
} from '@meterline/testing';

export const DURATION = 'http_server_request_duration_seconds';
export const REQ_SIZE = 'http_server_request_body_size_bytes';
export const RES_SIZE = 'http_server_response_body_size_bytes';

/** Bodies every app serves, so sizes are known. */
export const FIXED_BODY = 'f'.repeat(1000);
export const CHUNKS = ['a'.repeat(300), 'b'.repeat(300), 'c'.repeat(400)];
export const COMPRESSED = gzipSync(Buffer.from('z'.repeat(5000)));

export class ConformanceError extends Error {}

export interface RunningApp {
  port: number;
  server: import('node:http').Server;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 port 0 and describe the running server (Express and Koa apps). */
export async function listenRunning(
  listen: (port: number, host: string, cb: () => void) => import('node:http').Server,
): Promise<RunningApp> {
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    server,
    port: (server.address() as import('node:net').AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** What each framework app must provide (see apps/*.ts for the three implementations). */
export interface ConformanceApp {
  name: string;
  start(): Promise<RunningApp>;
  differences: Differences;
}

/** Declared, documented differences between frameworks. */
export interface Differences {
  /** status answered to OPTIONS on a route that only has GET */
  optionsStatus: number;
  /** route recorded for that OPTIONS request (undefined = none) */
  optionsRoute: string | undefined;
  /** status answered to an unknown method (PURGE) on an existing path */
  unknownMethodStatus: number;
  /**
   * error.type of an exception thrown in a handler and answered with a 500: the exception's class name (the
   * default), or the status code (`'status'`) where the framework answers the exception itself before the
   * adapter can see it (NestJS's exception filters)
   */
  thrownErrorType?: 'class' | 'status';
}

/** error.type recorded for a thrown exception of class `name` answered with `status` (see `thrownErrorType`). */
export function thrownErrorType(app: ConformanceApp, name: string, status: number): string {
  return app.differences.thrownErrorType === 'status' ? String(status) : name;
}

const common = { url_scheme: 'http', network_protocol_version: '1.1' };
export function series(method: string, route: string | undefined, status: number | undefined, extra: Labels = {}): Labels {
  return {
    http_request_method: method,
    ...(route === undefined ? {} : { http_route: route }),
    ...(status === undefined ? {} : { http_response_status_code: String(status) }),
    ...common,
    ...extra,
  };
}

export function conformance(app: ConformanceApp): void {
  let running: RunningApp;
  let base: string;
  const agent = new Agent({ connections: 1, pipelining: 1 });

  async function hit(path: string, init: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}) {
    const res = await fetch(base + path, { ...init, redirect: 'manual' });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body };
  }
  async function metricsNow(): Promise<Scrape> {
    const r = await scrape(base + '/metrics');
    expect(r.status).toBe(200);
    return r.scrape;
  }
  /** Series counts change only by what a step does: compare before/after. */
  async function delta(step: () => Promise<void>, labels: Labels, name = DURATION): Promise<number> {
    const before = (await metricsNow()).count(name, labels);
    await step();
    return (await metricsNow()).count(name, labels) - before;
  }

  describe(`${app.name}: conformance`, () => {
    beforeAll(async () => {
      running = await app.start();
      base = `http://127.0.0.1:${running.port}`;
    });
    afterAll(async () => {
      await agent.destroy().catch(() => undefined);
      await running.close();
    });

    it('static and parameterised routes carry the template', async () => {
      expect((await hit('/static')).status).toBe(200);
      expect((await hit('/items/1')).status).toBe(200);
      expect((await hit('/items/2')).status).toBe(200);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/static', 200))).toBe(1);
      expect(s.count(DURATION, series('GET', '/items/:id', 200))).toBe(2);
    });

    it('nested routers / prefixes / params in mount paths', async () => {
      expect((await hit('/api/v1/orgs/acme/repos/web')).status).toBe(200);
      expect((await hit('/api/v1/orgs/globex/repos/api')).status).toBe(200);
      expect((await hit('/api/v1/orgs/acme')).status).toBe(200);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/api/v1/orgs/:org/repos/:repo', 200))).toBe(2);
      expect(s.count(DURATION, series('GET', '/api/v1/orgs/:org', 200))).toBe(1);
    });

    it('unmatched paths have no http.route and add no series', async () => {
      const before = await metricsNow();
      const n404 = before.count(DURATION, series('GET', undefined, 404));
      const seriesBefore = before.seriesCount(DURATION);
      for (let i = 0; i < 200; i++) expect((await hit(`/nope/${i}/${Math.random()}`)).status).toBe(404);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', undefined, 404)) - n404).toBe(200);
      expect(s.seriesCount(DURATION)).toBe(seriesBefore + (n404 === 0 ? 1 : 0));
      expect(s.text).not.toContain('/nope/');
    });

    it('unknown methods become _OTHER', async () => {
      const status = app.differences.unknownMethodStatus;
      const d = await delta(async () => {
        expect((await request(base + '/static', { method: 'PURGE' }).then(async (r) => (await r.body.text(), r.statusCode)))).toBe(status);
      }, series('_OTHER', undefined, status, status >= 500 ? { error_type: String(status) } : {}));
      expect(d).toBe(1);
    });

    it('HEAD and OPTIONS', async () => {
      const head = await hit('/static', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      const options = await hit('/static', { method: 'OPTIONS' });
      expect(options.status).toBe(app.differences.optionsStatus);
      const s = await metricsNow();
      expect(s.count(DURATION, series('HEAD', '/static', 200))).toBe(1);
      expect(s.sum(RES_SIZE, series('HEAD', '/static', 200))).toBe(0);
      expect(s.count(DURATION, series('OPTIONS', app.differences.optionsRoute, app.differences.optionsStatus))).toBe(1);
    });

    it('2xx, 3xx, 4xx and 5xx: error.type only for server errors', async () => {
      for (const code of [201, 302, 400, 503]) expect((await hit(`/status/${code}`)).status).toBe(code);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/status/:code', 201))).toBe(1);
      expect(s.count(DURATION, series('GET', '/status/:code', 302))).toBe(1);
      expect(s.count(DURATION, series('GET', '/status/:code', 400))).toBe(1);
      expect(s.count(DURATION, series('GET', '/status/:code', 503, { error_type: '503' }))).toBe(1);
    });

    it('thrown sync and async errors: 500 with error.type = the exception class', async () => {
      expect((await hit('/throw-sync')).status).toBe(500);
      expect((await hit('/throw-async')).status).toBe(500);
      expect((await hit('/throw-async')).status).toBe(500);
      const s = await metricsNow();
      const syncType = thrownErrorType(app, 'TypeError', 500);
      const asyncType = thrownErrorType(app, 'ConformanceError', 500);
      expect(s.count(DURATION, series('GET', '/throw-sync', 500, { error_type: syncType }))).toBe(1);
      expect(s.count(DURATION, series('GET', '/throw-async', 500, { error_type: asyncType }))).toBe(2);
    });

    it('a client abort before the response: counted once, error.type=aborted, no status', async () => {
      await abortBeforeResponse(running.port, '/slow', 50);
      const ok = await eventually(async () => {
        const s = await metricsNow();
        return s.count(DURATION, series('GET', '/slow', undefined, { error_type: 'aborted' })) === 1;
      });
      expect(ok).toBe(true);
    });

    it('a client abort after the headers: counted once, error.type=aborted, with the status', async () => {
      expect(await abortAfterHeaders(running.port, '/stream-slow')).toBe('HTTP/1.1 200 OK');
      const ok = await eventually(async () => {
        const s = await metricsNow();
        return s.count(DURATION, series('GET', '/stream-slow', 200, { error_type: 'aborted' })) === 1;
      });
      expect(ok).toBe(true);
    });

    it('request and response bodies of known sizes: fixed, chunked, compressed', async () => {
      const body = Buffer.alloc(4321, 7);
      const echo = await hit('/echo', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      expect(echo.status).toBe(200);
      expect(echo.body.length).toBe(4321);
      expect((await hit('/fixed')).body.toString()).toBe(FIXED_BODY);
      expect((await hit('/chunked')).body.toString()).toBe(CHUNKS.join(''));
      const zipped = await request(base + '/compressed', { headers: { 'accept-encoding': 'gzip' } });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(Buffer.from(await zipped.body.arrayBuffer()).length).toBe(COMPRESSED.length);
      const s = await metricsNow();
      expect(s.sum(REQ_SIZE, series('POST', '/echo', 200))).toBe(4321);
      expect(s.sum(RES_SIZE, series('POST', '/echo', 200))).toBe(4321);
      expect(s.sum(RES_SIZE, series('GET', '/fixed', 200))).toBe(1000);
      expect(s.sum(RES_SIZE, series('GET', '/chunked', 200))).toBe(1000);
      expect(s.sum(RES_SIZE, series('GET', '/compressed', 200))).toBe(COMPRESSED.length);
      expect(s.bucket(RES_SIZE, series('GET', '/fixed', 200), '1024')).toBe(1);
      expect(s.bucket(RES_SIZE, series('GET', '/fixed', 200), '256')).toBe(0);
    });

    it('keep-alive: many requests on one socket, bytes and connections counted', async () => {
      const port = String(running.port);
      const net = { network_transport: 'tcp', server_port: port };
      const before = await metricsNow();
      const conns = before.count('network_server_connection_duration_seconds', net);
      const rx = before.value('network_server_io_bytes_total', { ...net, network_io_direction: 'receive' });
      const tx = before.value('network_server_io_bytes_total', { ...net, network_io_direction: 'transmit' });
      for (let i = 0; i < 25; i++) {
        const r = await request(base + '/fixed', { dispatcher: agent });
        expect((await r.body.text()).length).toBe(1000);
      }
      await agent.close();
      const ok = await eventually(async () => {
        const s = await metricsNow();
        return s.count('network_server_connection_duration_seconds', net) >= conns + 1;
      });
      expect(ok).toBe(true);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/fixed', 200))).toBeGreaterThanOrEqual(25);
      expect(s.value('network_server_io_bytes_total', { ...net, network_io_direction: 'transmit' }) - tx).toBeGreaterThan(25 * 1000);
      expect(s.value('network_server_io_bytes_total', { ...net, network_io_direction: 'receive' }) - rx).toBeGreaterThan(25 * 20);
    });

    it('concurrent slow requests: in-flight visible during, zero after', async () => {
      const slow = Promise.all(Array.from({ length: 5 }, () => hit('/slow')));
      const seen = await eventually(async () => {
        const s = await metricsNow();
        return s.value('http_server_active_requests', { http_request_method: 'GET', url_scheme: 'http' }) === 5;
      }, 2000, 10);
      expect(seen).toBe(true);
      for (const r of await slow) expect(r.status).toBe(200);
      const s = await metricsNow();
      for (const m of s.samples('http_server_active_requests')) expect(Number(m.value)).toBe(0);
    });

    it('excluded routes are not recorded, /metrics does not measure itself', async () => {
      expect((await hit('/health')).status).toBe(200);
      await metricsNow();
      const s = await metricsNow();
      expect(s.totalCount(DURATION, { http_route: '/health' })).toBe(0);
      expect(s.text).not.toContain('/metrics');
    });

    it('passes promtool check metrics', async () => {
      const r = await scrape(base + '/metrics');
      const check = promtoolCheck(r.text);
      expect(check.output).toBe('');
      expect(check.code).toBe(0);
    });
  });
}
