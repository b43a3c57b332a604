/**
 * The Koa middleware itself: its options, router-less apps, no server listener of its own. Request lifecycles
 * (in-flight, aborts, bodies, exclusions, the endpoint) of every framework are in the conformance table
 * (packages/test-kit).
 */
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import metricsDefault, { metrics } from '../src/index.js';
import { DURATION, get, listen, scrape, series, settled } from './helpers.js';

describe('a router-less app', () => {
  it('is measured without http.route, with the metrics at a custom path and the app at /metrics', async () => {
    const app = new Koa();
    app.use(metricsDefault({ path: '/internal/metrics' }));
    app.use((ctx) => {
      ctx.body = 'app';
    });
    const custom = await listen(app);
    try {
      const before = await scrape(custom, '/internal/metrics');
      expect(await get(custom, '/metrics')).toEqual({ status: 200, body: 'app' });
      expect(await get(custom, '/anything/7')).toEqual({ status: 200, body: 'app' });
      const after = await settled(custom, before.totalCount(DURATION) + 2, '/internal/metrics');
      expect(after.count(DURATION, series('GET', undefined, 200)) - before.count(DURATION, series('GET', undefined, 200))).toBe(2);
      expect(after.text).not.toContain('/anything');
      // measured by metrics() alone: no request listener of its own (only Express needs requests reserved early)
      expect(custom.server.listenerCount('request')).toBe(1);
    } finally {
      await custom.close();
    }
  });

  it('leaves /metrics to the app with path: false', async () => {
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
