// OTLP beside Prometheus: the `otlp` option pushes the same metrics to a local OTLP/HTTP receiver that decodes them;
// the values must equal what the client sent and what /metrics serves. Memory stays flat when /metrics is never
// scraped.
import { metrics } from '@opentelemetry/api';
import { MeterProvider, type PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, scrape } from '@meterline/testing';
import { configure, getMeterline, PullReader, resetMeterline, setRoute, withMetrics } from '../src/index.js';
import { OtlpReceiver } from './otlp-receiver.js';

const receiver = new OtlpReceiver();
let server: Server;
let base: string;

beforeAll(async () => {
  await receiver.start();
  configure({ serviceName: 'otlp-test', otlp: { url: receiver.url, intervalMs: 200, timeoutMs: 200 } });
  server = createServer(
    withMetrics((req, res) => {
      setRoute(req, '/items/:id');
      metrics.getMeter('shop').createCounter('shop.orders').add(2, { kind: 'web' });
      res.statusCode = req.url === '/items/bad' ? 500 : 200;
      res.end('ok');
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await resetMeterline();
  await receiver.stop();
});

describe('otlp option', () => {
  it('pushes HTTP RED, network and the app instruments to the OTLP receiver, equal to the client counts', async () => {
    for (let i = 0; i < 25; i++)
      await (await fetch(`${base}/items/${i % 5 === 0 ? 'bad' : i}`)).arrayBuffer();
    const match = { 'http.route': '/items/:id' };
    expect(
      await eventually(
        () =>
          receiver.total('http.server.request.duration', match) === 25 &&
          receiver.total('shop.orders') === 50,
        5000,
      ),
      JSON.stringify(receiver.latest('http.server.request.duration')?.points.map((p) => p.count)),
    ).toBe(true);
    expect(
      receiver.total('http.server.request.duration', {
        ...match,
        'http.response.status_code': '500',
        'error.type': '500',
      }),
    ).toBe(5);
    const duration = receiver.latest('http.server.request.duration')!;
    // cumulative (2), as decided for the two-reader setup
    expect(duration.metric.histogram?.aggregationTemporality).toBe(2);
    expect(duration.resource['service.name']).toBe('otlp-test');
    expect(duration.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    const bucketTotal = duration.points.reduce(
      (a, p) => a + (p.bucketCounts ?? []).reduce((x: number, c) => x + Number(c), 0),
      0,
    );
    expect(bucketTotal).toBe(25);
    expect(receiver.total('network.server.io')).toBeGreaterThan(0);
    expect(receiver.contentTypes).toEqual(new Set(['application/json']));
    // the same numbers on the Prometheus side
    const { scrape: s } = await scrape(`${base}/metrics`);
    expect(s.totalCount('http_server_request_duration_seconds', { http_route: '/items/:id' })).toBe(25);
    expect(s.value('shop_orders_total', { kind: 'web' })).toBe(50);
  });

  it('keeps the heap flat over many export cycles with /metrics never scraped', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const reader = (
      getMeterline().meterProvider as unknown as {
        _sharedState: { metricCollectors: Array<{ _metricReader: unknown }> };
      }
    )._sharedState.metricCollectors
      .map((c) => c._metricReader)
      .find((r) => r !== getMeterline().reader) as PeriodicExportingMetricReader;
    expect(reader).toBeDefined();
    const meter = metrics.getMeter('heap');
    const hist = meter.createHistogram('heap.work', { unit: 's' });
    const cycle = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 50; k++) hist.record(k / 100, { k: String(k) });
        await reader.forceFlush();
      }
    };
    await cycle(100);
    const exportsBefore = receiver.received;
    gc();
    const before = process.memoryUsage().heapUsed;
    await cycle(600);
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    // a per-reader backlog of 600 collections of 50 histogram points would be tens of MB
    expect(growth).toBeLessThan(3 * 1024 * 1024);
    expect(receiver.total('heap.work')).toBe(700 * 50);
    expect(receiver.received - exportsBefore).toBeGreaterThanOrEqual(600);
  }, 60_000);

  it('fails fast on bad otlp options, naming the option', async () => {
    const { Meterline } = await import('../src/runtime.js');
    expect(() => new Meterline({ otlp: 'ftp://x' })).toThrow(/otlp\.url/);
    expect(() => new Meterline({ otlp: { intervalMs: 1000, timeoutMs: 5000 } })).toThrow(/otlp\.timeoutMs/);
    expect(() => new Meterline({ otlp: { protocol: 'grpc' as 'http/json' } })).toThrow(/otlp\.protocol/);
    const provider = new MeterProvider({ readers: [] });
    expect(
      () => new Meterline({ otlp: receiver.url, meterProvider: provider, reader: new PullReader() }),
    ).toThrow(/option "otlp".*meterline's own MeterProvider/);
    const { checkExporterInstalled } = await import('../src/otlp.js');
    expect(() =>
      checkExporterInstalled('meterline.configure', '@opentelemetry/exporter-metrics-otlp-nope'),
    ).toThrow(/option "otlp".*needs the optional peer dependency @opentelemetry\/exporter-metrics-otlp-nope/);
  });
});
