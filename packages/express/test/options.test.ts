import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer } from '@meterline/core';
import { scrape } from '@meterline/testing';
import { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';

function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    );
  });
}

describe('express options', () => {
  let a: { server: Server; url: string };
  let b: { server: Server; url: string };
  let separate: MetricsServer;

  beforeAll(async () => {
    // app A: runtime options go to the first middleware; metrics on a custom path, protected, /health excluded
    const appA = express();
    appA.use(
      metrics({
        path: '/internal/metrics',
        exclude: ['/health', /^\/static\//],
        auth: { bearerToken: 's3cret' },
        durationBuckets: [0.1, 1],
      }),
    );
    appA.get('/health', (_req, res) => {
      res.send('ok');
    });
    appA.get('/work', (_req, res) => {
      res.send('done');
    });
    a = await listen(appA);
    // app B: no metrics endpoint on the app; served on a separate port instead
    const appB = express();
    appB.use(metrics({ path: false }));
    appB.get('/b', (_req, res) => {
      res.send('b');
    });
    b = await listen(appB);
    separate = await startMetricsServer({ port: 0 });
  });

  afterAll(async () => {
    for (const s of [a.server, b.server]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await separate.close();
  });

  it('serves on the configured path only with the bearer token, and excludes routes and paths', async () => {
    for (const path of ['/health', '/health', '/work', '/static/app.js']) await (await fetch(a.url + path)).text();
    const denied = await fetch(a.url + '/internal/metrics');
    expect(denied.status).toBe(401);
    expect(await denied.text()).not.toContain('http_server');
    const wrong = await fetch(a.url + '/internal/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await wrong.text();
    const r = await scrape(a.url + '/internal/metrics', { headers: { authorization: 'Bearer s3cret' } });
    expect(r.status).toBe(200);
    const s = r.scrape;
    expect(s.totalCount(DURATION, { http_route: '/work' })).toBe(1);
    expect(s.totalCount(DURATION, { http_route: '/health' })).toBe(0);
    // an excluded unmatched path (404) is not recorded either
    expect(s.totalCount(DURATION, { http_response_status_code: '404' })).toBe(0);
    // custom buckets from the first middleware's runtime options
    expect(s.bucket(DURATION, s.samples(DURATION, { http_route: '/work' })[0].labels!, '0.1')).toBe(1);
    // (the request duration family only: meterline's own duration histograms keep their buckets)
    const durationLines = r.text.split('\n').filter((l) => l.startsWith(DURATION + '_bucket'));
    expect(durationLines.length).toBeGreaterThan(0);
    expect(durationLines.join('\n')).not.toContain('le="0.005"');
    // /metrics on app A is a normal unmatched path now
    expect((await fetch(a.url + '/metrics')).status).toBe(404);
  });

  it('path:false leaves /metrics to the app, and startMetricsServer serves the shared registry on 127.0.0.1', async () => {
    await (await fetch(b.url + '/b')).text();
    expect((await fetch(b.url + '/metrics')).status).toBe(404);
    expect(separate.host).toBe('127.0.0.1');
    const r = await scrape(separate.url);
    expect(r.status).toBe(200);
    expect(r.scrape.totalCount(DURATION, { http_route: '/b' })).toBe(1);
    expect(r.scrape.totalCount(DURATION, { http_route: '/work' })).toBe(1);
    const other = await fetch(separate.url.replace('/metrics', '/other'));
    expect(other.status).toBe(404);
  });

  it('rejects bad options at creation with a message naming the option', () => {
    expect(() => metrics({ pth: '/m' } as never)).toThrow(/unknown option "pth"/);
    expect(() => metrics({ path: 'metrics' })).toThrow(/option "path" is "metrics"/);
    expect(() => metrics({ exclude: '/health' as never })).toThrow(/option "exclude"/);
    expect(() => metrics({ auth: { bearerToken: '' } })).toThrow(/auth.bearerToken/);
    expect(() => metrics({ maxConcurrentScrapes: 0 })).toThrow(/maxConcurrentScrapes.*from 1 to 1000/);
    // runtime options after the runtime exists are refused, not silently ignored
    expect(() => metrics({ durationBuckets: [1, 2] })).toThrow(/already configured/);
  });
});
