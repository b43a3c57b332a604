// One /metrics for everything: the app's prom-client / @prometheus-io/client registries served by meterline's
// handler after meterline's own metrics, each family once, clashes refused at startup or dropped and reported.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import promClient from 'prom-client';
import { promtoolCheck, scrape } from '@meterline/testing';
import { configure, getMeterline, resetMeterline, setRoute, withMetrics } from '../src/index.js';
import { resetReported } from '../src/report.js';

const require = createRequire(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);
// @prometheus-io/client (prom-client's new name) supports Node 22 and later only
const prometheusIo = major >= 22 ? (require('@prometheus-io/client') as typeof promClient) : undefined;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
  promClient.register.clear();
  await resetMeterline();
  resetReported();
});

async function start(): Promise<string> {
  server = createServer(
    withMetrics((req, res) => {
      setRoute(req, '/orders');
      res.end('ok');
    }),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

/** Each family's HELP and TYPE lines must appear once. */
function headerCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE '))
      out.set(
        line.slice(0, 7) + line.split(' ')[2],
        (out.get(line.slice(0, 7) + line.split(' ')[2]) ?? 0) + 1,
      );
  }
  return out;
}

for (const [label, client] of [
  ['prom-client', promClient],
  ['@prometheus-io/client', prometheusIo],
] as const) {
  describe.skipIf(client === undefined)(`registries of ${label}`, () => {
    it("serves the default registry and a custom one next to meterline's metrics, each family once", async () => {
      const c = client!;
      c.register.clear();
      c.collectDefaultMetrics({ register: c.register });
      const jobs = new c.Counter({ name: 'jobs_processed_total', help: 'Jobs.', labelNames: ['queue'] });
      jobs.inc({ queue: 'mail' }, 3);
      const custom = new c.Registry();
      const lag = new c.Summary({
        name: 'queue_lag_seconds',
        help: 'Lag.',
        registers: [custom],
        percentiles: [0.5],
      });
      lag.observe(2);
      lag.observe(4);
      new c.Gauge({ name: 'cache_entries', help: 'Entries.', registers: [custom] }).set(42);
      configure({ registries: [c.register, custom] });
      const base = await start();
      await (await fetch(`${base}/orders`)).text();

      const { text, scrape: s } = await scrape(`${base}/metrics`);
      expect(
        s.count('http_server_request_duration_seconds', {
          http_request_method: 'GET',
          http_route: '/orders',
          http_response_status_code: '200',
          url_scheme: 'http',
          network_protocol_version: '1.1',
        }),
      ).toBe(1);
      expect(s.value('jobs_processed_total', { queue: 'mail' })).toBe(3);
      expect(s.value('cache_entries')).toBe(42);
      expect(s.value('queue_lag_seconds_sum')).toBe(6);
      expect(s.value('queue_lag_seconds_count')).toBe(2);
      expect(s.types.get('queue_lag_seconds')).toBe('summary');
      expect(s.types.get('process_cpu_user_seconds_total')).toBe('counter');
      expect(
        s.value('nodejs_version_info', {
          version: process.version,
          major: String(major),
          minor: process.versions.node.split('.')[1],
          patch: process.versions.node.split('.')[2],
        }),
      ).toBe(1);
      for (const [header, n] of headerCounts(text)) expect(n, header).toBe(1);
      expect(promtoolCheck(text).output).not.toMatch(/error|duplicate/i);
      // the same exposition through the runtime's scrape()
      expect(await getMeterline().scrape()).toContain('cache_entries 42');
    });

    it("refuses at startup a registry that holds one of meterline's names", () => {
      const c = client!;
      const reg = new c.Registry();
      new c.Histogram({ name: 'http_request_duration_seconds', help: 'x', registers: [reg] });
      expect(() => configure({ naming: 'classic', registries: [reg] })).toThrow(
        /option "registries\[0\]".*http_request_duration_seconds.*naming: 'classic'/,
      );
      // the same metric in two registries
      const a = new c.Registry();
      const b = new c.Registry();
      new c.Gauge({ name: 'twice', help: 'x', registers: [a, b] });
      expect(() => configure({ registries: [a, b] })).toThrow(/"twice" is also in registries\[0\]/);
      expect(() => configure({ registries: [{} as never] })).toThrow(/option "registries\[0\]"/);
      const om = new (c.Registry as unknown as new (contentType: string) => object)(
        c.Registry.OPENMETRICS_CONTENT_TYPE,
      );
      expect(() => configure({ registries: [om] })).toThrow(/OpenMetrics/);
    });

    it('drops a family registered later under a name meterline serves, and reports it once', async () => {
      const c = client!;
      const reg = new c.Registry();
      new c.Gauge({ name: 'kept', help: 'Kept.', registers: [reg] }).set(1);
      const errors: string[] = [];
      configure({ naming: 'classic', registries: [reg], onError: (e) => errors.push(String(e)) });
      const base = await start();
      // registered after startup: only visible at scrape time
      new c.Counter({ name: 'http_requests_total', help: 'Clash.', registers: [reg] }).inc(99);
      await (await fetch(`${base}/orders`)).text();
      const first = await scrape(`${base}/metrics`);
      await scrape(`${base}/metrics`);
      expect(
        first.scrape.value('http_requests_total', { method: 'GET', route: '/orders', status_code: '200' }),
      ).toBe(1);
      expect(first.text).not.toContain(' 99\n');
      expect(first.text).not.toContain('Clash.');
      expect(first.scrape.value('kept')).toBe(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/http_requests_total of registries\[0\].*dropped/);
      for (const [header, n] of headerCounts(first.text)) expect(n, header).toBe(1);
    });
  });
}

it('takes a registry that only has getMetricsAsJSON()', async () => {
  const reg = new promClient.Registry();
  const h = new promClient.Histogram({
    name: 'json_latency_seconds',
    help: 'L.',
    buckets: [1],
    labelNames: ['a'],
    registers: [reg],
  });
  h.observe({ a: 'x"y' }, 0.5);
  configure({ registries: [{ getMetricsAsJSON: () => reg.getMetricsAsJSON() }] });
  const base = await start();
  const { text, scrape: s } = await scrape(`${base}/metrics`);
  expect(s.value('json_latency_seconds_bucket', { a: 'x"y', le: '1' })).toBe(1);
  expect(s.value('json_latency_seconds_count', { a: 'x"y' })).toBe(1);
  expect(s.types.get('json_latency_seconds')).toBe('histogram');
  expect(promtoolCheck(text).output).not.toMatch(/error/i);
});

it("keeps meterline's names taken before their first sample (a clashing family does not come and go)", async () => {
  const reg = new promClient.Registry();
  configure({ naming: 'classic', registries: [reg], onError: () => undefined });
  const base = await start();
  new promClient.Gauge({ name: 'http_requests_in_flight', help: 'Clash.', registers: [reg] }).set(7);
  // no request yet: meterline serves no in-flight series, and the registry's gauge is still not served
  const { text } = await scrape(`${base}/metrics`);
  expect(text).not.toContain('Clash.');
});
