// naming: 'classic': the names and labels of express-prom-bundle, fastify-metrics and hand-written prom-client
// middleware, from the same aggregates, read back from a real scrape of a real server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { promtoolCheck, rawRequest, scrape } from '@meterline/testing';
import { configure, resetMeterline, setRoute, withMetrics } from '../src/index.js';
import { EXPRESS_PROM_BUNDLE_BUCKETS, PROM_CLIENT_DEFAULT_BUCKETS } from '../src/index.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
  await resetMeterline();
});

async function start(): Promise<string> {
  server = createServer(
    withMetrics((req, res) => {
      const m = /^\/users\/(\d+)$/.exec(req.url ?? '');
      if (m !== null) {
        setRoute(req, '/users/:id');
        res.statusCode = m[1] === '0' ? 404 : 200;
        res.end('user');
        return;
      }
      if (req.url === '/fail') {
        setRoute(req, '/fail');
        res.statusCode = 500;
        res.end('no');
        return;
      }
      if (req.url === '/hold') {
        setRoute(req, '/hold');
        setTimeout(() => res.end('held'), 300);
        return;
      }
      res.statusCode = 404;
      res.end();
    }),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

describe("naming: 'classic'", () => {
  it('serves http_request_duration_seconds{method,route,status_code}, http_requests_total and the in-flight gauge', async () => {
    configure({ naming: 'classic', durationBuckets: [...EXPRESS_PROM_BUNDLE_BUCKETS] });
    const base = await start();
    for (let i = 0; i < 3; i++) await (await fetch(`${base}/users/${i + 1}`)).text();
    await (await fetch(`${base}/users/0`)).text();
    await (await fetch(`${base}/fail`)).text();
    await (await fetch(`${base}/nowhere`)).text();
    // HTTP/1.0 and 1.1 requests of the same route and status: one classic series (the protocol is not a label)
    await rawRequest(Number(new URL(base).port), 'GET /users/7 HTTP/1.0\r\nHost: x\r\n\r\n');
    const held = fetch(`${base}/hold`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));

    const { text, scrape: s } = await scrape(`${base}/metrics`);
    expect(s.types.get('http_request_duration_seconds')).toBe('histogram');
    expect(s.types.get('http_requests_total')).toBe('counter');
    expect(s.types.get('http_requests_in_flight')).toBe('gauge');
    expect(s.types.get('http_request_size_bytes')).toBe('histogram');
    expect(s.types.get('http_response_size_bytes')).toBe('histogram');
    // the OpenTelemetry names are replaced, not served next to them
    expect(text).not.toContain('http_server_request_duration_seconds');
    expect(text).not.toContain('http_server_active_requests');

    const ok = { method: 'GET', route: '/users/:id', status_code: '200' };
    expect(s.count('http_request_duration_seconds', ok)).toBe(4);
    expect(s.value('http_requests_total', ok)).toBe(4);
    expect(s.value('http_requests_total', { ...ok, status_code: '404' })).toBe(1);
    expect(s.value('http_requests_total', { method: 'GET', route: '/fail', status_code: '500' })).toBe(1);
    // no route matched: no route label (as in the OpenTelemetry names), never the raw path
    expect(s.value('http_requests_total', { method: 'GET', status_code: '404' })).toBe(1);
    expect(text).not.toContain('/nowhere');
    // express-prom-bundle's buckets, cumulative
    expect(s.bucket('http_request_duration_seconds', ok, '10')).toBe(4);
    expect(s.bucket('http_request_duration_seconds', ok, '+Inf')).toBe(4);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*le="0\.003"\}/);
    expect(s.value('http_requests_in_flight', { method: 'GET' })).toBe(1);
    expect(s.count('http_response_size_bytes', ok)).toBe(4);
    expect(s.sum('http_response_size_bytes', ok)).toBe(16);
    expect(promtoolCheck(text).output).toBe('');

    await held;
    const after = (await scrape(`${base}/metrics`)).scrape;
    expect(after.value('http_requests_in_flight', { method: 'GET' })).toBe(0);
    expect(
      after.count('http_request_duration_seconds', { method: 'GET', route: '/hold', status_code: '200' }),
    ).toBe(1);
    expect(
      after.bucket(
        'http_request_duration_seconds',
        { method: 'GET', route: '/hold', status_code: '200' },
        '0.3',
      ),
    ).toBe(0);
  });

  it("renames labels with classicLabels (express-prom-bundle's path) and keeps the user's attributes", async () => {
    configure({ naming: 'classic', classicLabels: { route: 'path' } });
    server = createServer(
      withMetrics(
        (req, res) => {
          setRoute(req, '/users/:id');
          res.end('x');
        },
        { attributes: () => ({ tier: 'gold' }) },
      ),
    );
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await fetch(`${base}/users/1`)).text();
    await (await fetch(`${base}/users/2`)).text();
    const { scrape: s } = await scrape(`${base}/metrics`);
    expect(
      s.count('http_request_duration_seconds', {
        method: 'GET',
        path: '/users/:id',
        status_code: '200',
        tier: 'gold',
      }),
    ).toBe(2);
    // the default buckets stay the semantic-convention ones unless chosen
    const labels = { method: 'GET', path: '/users/:id', status_code: '200', tier: 'gold' };
    expect(s.bucket('http_request_duration_seconds', labels, '7.5')).toBe(2);
    expect(s.text).toContain('le="7.5"');
  });

  it('fails fast on bad naming options, naming the option', () => {
    expect(() => configure({ naming: 'prom' as never })).toThrow(/option "naming"/);
    expect(() => configure({ classicLabels: { route: 'path' } })).toThrow(/option "classicLabels".*classic/);
    expect(() => configure({ naming: 'classic', classicLabels: { route: 'le' } })).toThrow(/classicLabels/);
    expect(() => configure({ naming: 'classic', classicLabels: { route: 'method' } })).toThrow(/must differ/);
    expect(PROM_CLIENT_DEFAULT_BUCKETS).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  });
});
