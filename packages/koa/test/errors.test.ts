/**
 * Koa's errors: what metrics() records must leave Koa's own handling unchanged (the `error` event, an upstream
 * error-handling middleware, http-errors from ctx.throw()). Thrown classes and 5xx statuses of every framework
 * are in the conformance table (packages/test-kit).
 */
import Koa from 'koa';
import Router from '@koa/router';
import { describe, expect, it } from 'vitest';
import { metrics } from '../src/index.js';
import { DURATION, get, scrape, served, series, settled, type Scrape } from './helpers.js';

class BackendError extends Error {
  override name = 'BackendError';
}

/** Errors Koa's `error` event reported, and errors the app's own error-handling middleware caught. */
const emitted: unknown[] = [];
const caught: unknown[] = [];
/** The errors the routes threw, to compare by identity. */
const thrown: Record<string, Error> = {};

const running = served(() => {
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: unknown) => {
    emitted.push(err);
  });
  // the app's own error handler, upstream of metrics(): answers some errors itself
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      caught.push(err);
      if (ctx.path.startsWith('/handled')) {
        ctx.status = 500;
        ctx.body = { error: (err as Error).message };
        return;
      }
      throw err;
    }
  });
  app.use(metrics());
  const router = new Router();
  router.get('/sync/:id', () => {
    thrown.sync = new TypeError('sync failure');
    throw thrown.sync;
  });
  router.get('/async/:id', async () => {
    await new Promise((r) => setTimeout(r, 5));
    thrown.async = new BackendError('async failure');
    throw thrown.async;
  });
  router.get('/handled/:id', async () => {
    await Promise.resolve();
    thrown.handled = new RangeError('handled failure');
    throw thrown.handled;
  });
  router.get('/bad-request', (ctx) => {
    ctx.throw(400, 'bad input');
  });
  router.get('/thrown-503', (ctx) => {
    ctx.throw(503);
  });
  router.get('/fine', (ctx) => {
    ctx.body = 'fine';
  });
  app.use(router.routes());
  return app;
});

/** Send the requests, then scrape once all of them are counted. */
async function measured(paths: string[]): Promise<{ statuses: number[]; bodies: string[]; after: Scrape }> {
  const before = await scrape(running);
  const statuses: number[] = [];
  const bodies: string[] = [];
  for (const path of paths) {
    const res = await get(running, path);
    statuses.push(res.status);
    bodies.push(res.body);
  }
  return { statuses, bodies, after: await settled(running, before.totalCount(DURATION) + paths.length) };
}

describe('errors', () => {
  it('records a thrown sync error by class name and still lets Koa answer and report it', async () => {
    emitted.length = 0;
    caught.length = 0;
    const { statuses, after } = await measured(['/sync/1']);
    expect(statuses).toEqual([500]);
    expect(after.count(DURATION, series('GET', '/sync/:id', 500, { error_type: 'TypeError' }))).toBe(1);
    expect(after.count(DURATION, series('GET', '/sync/:id', 500))).toBe(0);
    expect(caught).toEqual([thrown.sync]);
    expect(caught[0]).toBe(thrown.sync);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toBe(thrown.sync);
  });

  it('records a thrown async error by class name', async () => {
    emitted.length = 0;
    const { statuses, after } = await measured(['/async/1', '/async/2']);
    expect(statuses).toEqual([500, 500]);
    expect(after.count(DURATION, series('GET', '/async/:id', 500, { error_type: 'BackendError' }))).toBe(2);
    expect(emitted).toHaveLength(2);
    expect(emitted[1]).toBe(thrown.async);
  });

  it('records the error an upstream error handler turned into a 500 response', async () => {
    caught.length = 0;
    emitted.length = 0;
    const { statuses, bodies, after } = await measured(['/handled/1']);
    expect(statuses).toEqual([500]);
    expect(JSON.parse(bodies[0])).toEqual({ error: 'handled failure' });
    expect(after.count(DURATION, series('GET', '/handled/:id', 500, { error_type: 'RangeError' }))).toBe(1);
    expect(caught).toHaveLength(1);
    expect(caught[0]).toBe(thrown.handled);
    expect(emitted).toEqual([]);
  });

  it('records ctx.throw(400) as a 4xx without error.type', async () => {
    const { statuses, after } = await measured(['/bad-request']);
    expect(statuses).toEqual([400]);
    expect(after.count(DURATION, series('GET', '/bad-request', 400))).toBe(1);
    expect(after.labelSets(DURATION, { http_response_status_code: '400' }).every((l) => l.error_type === undefined)).toBe(
      true,
    );
  });

  it('records ctx.throw(503) with the HTTP error class name', async () => {
    const { statuses, after } = await measured(['/thrown-503']);
    expect(statuses).toEqual([503]);
    expect(after.count(DURATION, series('GET', '/thrown-503', 503, { error_type: 'ServiceUnavailableError' }))).toBe(1);
  });

  it('does not carry an error over to the next request', async () => {
    const { statuses, after } = await measured(['/sync/2', '/fine']);
    expect(statuses).toEqual([500, 200]);
    expect(after.count(DURATION, series('GET', '/fine', 200))).toBe(1);
    expect(after.labelSets(DURATION, { http_route: '/fine' })).toHaveLength(1);
  });
});

