import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import metricsDefault, { metrics } from '../src/index.js';
import {
  ACTIVE,
  DURATION,
  REQUEST_SIZE,
  RESPONSE_SIZE,
  abortBeforeResponse,
  eventually,
  get,
  listen,
  scrape,
  series,
  settled,
  type Running,
} from './helpers.js';

/** A gate a route waits on, opened by the test. */
class Gate {
  private waiting: Array<() => void> = [];
  entered = 0;
  wait(): Promise<void> {
    this.entered++;
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  open(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const gate = new Gate();
let running: Running;
let finishedAfterAbort = 0;

async function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  const app = new Koa();
  app.silent = true;
  app.use(metrics({ exclude: ['/health'] }));
  const router = new Router({ prefix: '/api' });
  router.get('/plain', (ctx) => {
    ctx.body = 'plain';
  });
  router.get('/wait/:id', async (ctx) => {
    await gate.wait();
    ctx.body = 'done';
    finishedAfterAbort++;
  });
  router.post('/echo/:id', async (ctx) => {
    const body = await readBody(ctx.req);
    ctx.status = 201;
    ctx.body = `received ${body.length} bytes`;
  });
  const health = new Router();
  health.get('/health', (ctx) => {
    ctx.body = 'ok';
  });
  app.use(router.routes());
  app.use(health.routes());
  running = await listen(app);
});

afterAll(async () => {
  gate.open();
  await running.close();
});

describe('the metrics endpoint', () => {
  it('serves Prometheus text at /metrics and does not measure scrapes', async () => {
    const res = await fetch(`${running.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    await res.text();
    const first = await scrape(running);
    await scrape(running);
    await scrape(running, '/metrics?x=1');
    const last = await scrape(running);
    expect(last.total(DURATION)).toBe(first.total(DURATION));
    expect(last.series(DURATION).some((l) => l.http_route === '/metrics')).toBe(false);
  });

  it('serves at a custom path, and not at all with path: false', async () => {
    const app = new Koa();
    app.use(metricsDefault({ path: '/internal/metrics' }));
    app.use((ctx) => {
      ctx.body = 'app';
    });
    const custom = await listen(app);
    try {
      expect((await get(custom, '/metrics')).body).toBe('app');
      const s = await scrape(custom, '/internal/metrics');
      expect(s.families.has(`${DURATION}_count`)).toBe(true);
    } finally {
      await custom.close();
    }
    const off = new Koa();
    off.use(metrics({ path: false }));
    off.use((ctx) => {
      ctx.body = 'app';
    });
    const none = await listen(off);
    try {
      expect(await get(none, '/metrics')).toEqual({ status: 200, body: 'app' });
    } finally {
      await none.close();
    }
  });
});

describe('request lifecycle', () => {
  it('measures without a listener of its own on the server (only Express needs requests reserved early)', async () => {
    const before = await scrape(running);
    const res = await get(running, '/api/plain');
    expect(res.status).toBe(200);
    expect(running.server.listenerCount('request')).toBe(1);
    const after = await settled(running, before.total(DURATION) + 1);
    expect(after.count(DURATION, series('GET', '200', '/api/plain'))).toBe(
      before.count(DURATION, series('GET', '200', '/api/plain')) + 1,
    );
  });

  it('keeps in-flight requests exact and back to 0', async () => {
    const active = { http_request_method: 'GET', url_scheme: 'http' };
    const before = await scrape(running);
    const entered = gate.entered;
    const pending = [get(running, '/api/wait/1'), get(running, '/api/wait/2')];
    expect(await eventually(() => gate.entered === entered + 2)).toBe(true);
    expect((await scrape(running)).value(ACTIVE, active)).toBe(2);
    gate.open();
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200]);
    const after = await settled(running, before.total(DURATION) + 2);
    expect(after.value(ACTIVE, active)).toBe(0);
    expect(after.count(DURATION, series('GET', '200', '/api/wait/:id'))).toBe(2);
  });

  it('counts a client abort once, with its route and error.type=aborted', async () => {
    const before = await scrape(running);
    const entered = gate.entered;
    const finished = finishedAfterAbort;
    await abortBeforeResponse(running.port, '/api/wait/3');
    expect(await eventually(() => gate.entered === entered + 1)).toBe(true);
    const aborted = {
      http_request_method: 'GET',
      http_route: '/api/wait/:id',
      url_scheme: 'http',
      network_protocol_version: '1.1',
      error_type: 'aborted',
    };
    const afterAbort = await settled(running, before.total(DURATION) + 1);
    expect(afterAbort.count(DURATION, aborted) - before.count(DURATION, aborted)).toBe(1);
    expect(afterAbort.value(ACTIVE, { http_request_method: 'GET', url_scheme: 'http' })).toBe(0);
    // the handler finishes after the client left: still counted once
    gate.open();
    expect(await eventually(() => finishedAfterAbort === finished + 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const end = await scrape(running);
    expect(end.total(DURATION)).toBe(before.total(DURATION) + 1);
    expect(end.count(DURATION, aborted) - before.count(DURATION, aborted)).toBe(1);
  });

  it('records request and response body sizes of POSTs', async () => {
    const labels = series('POST', '201', '/api/echo/:id');
    const before = await scrape(running);
    const bodies = ['a'.repeat(1234), 'b'.repeat(10)];
    for (const body of bodies) {
      const res = await get(running, '/api/echo/1', { method: 'POST', body });
      expect(res).toEqual({ status: 201, body: `received ${body.length} bytes` });
    }
    const after = await settled(running, before.total(DURATION) + 2);
    expect(after.count(REQUEST_SIZE, labels)).toBe(2);
    expect(after.sum(REQUEST_SIZE, labels)).toBe(1244);
    expect(after.sum(RESPONSE_SIZE, labels)).toBe('received 1234 bytes'.length + 'received 10 bytes'.length);
  });

  it('leaves excluded routes unrecorded', async () => {
    const before = await scrape(running);
    expect(await get(running, '/health')).toEqual({ status: 200, body: 'ok' });
    await get(running, '/api/echo/2', { method: 'POST', body: 'x' });
    const after = await settled(running, before.total(DURATION) + 1);
    await new Promise((r) => setTimeout(r, 50));
    const end = await scrape(running);
    expect(end.total(DURATION)).toBe(after.total(DURATION));
    expect(end.total(DURATION)).toBe(before.total(DURATION) + 1);
    expect(end.series(DURATION).some((l) => l.http_route === '/health')).toBe(false);
  });
});

describe('options', () => {
  it('throws at creation on bad options, naming the option', () => {
    expect(() => metrics({ path: 'metrics' })).toThrow(/@meterline\/koa metrics\(\): option "path"/);
    expect(() => metrics({ exclude: '/health' as unknown as string[] })).toThrow(/option "exclude"/);
    expect(() => metrics({ pathh: '/m' } as unknown as object)).toThrow(/unknown option "pathh"/);
    expect(() => metrics(null as unknown as object)).toThrow(/option "options"/);
    expect(() => metrics({ timeoutMs: -1 })).toThrow(/option "timeoutMs"/);
  });

  it('exports the middleware as default too', () => {
    expect(metricsDefault).toBe(metrics);
  });
});
