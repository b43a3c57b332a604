import { metrics, ValueType } from '@opentelemetry/api';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheck, scrape } from '@meterline/testing';
import { AdapterCore, configure, createMetricsHandler, prometheusName, startMetricsServer } from '../src/index.js';

let server: Server;
let url: string;
let queueDepth = 7;

beforeAll(async () => {
  const runtime = configure({ serviceName: 'core-test' });
  // the user's own instruments, through the global OpenTelemetry API, land on the same /metrics
  const meter = metrics.getMeter('shop');
  const orders = meter.createCounter('shop.orders', { description: 'Orders placed.', unit: '{order}' });
  orders.add(3, { 'payment.method': 'card' });
  orders.add(2, { 'payment.method': 'invoice' });
  const latency = meter.createHistogram('shop.checkout.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [0.01, 0.1] },
  });
  latency.record(0.042, { step: 'pay' });
  meter
    .createObservableGauge('shop.queue.depth', { description: 'Jobs waiting.\nComputed at scrape time.' })
    .addCallback((r) => r.observe(queueDepth, { queue: 'mail' }));
  // the same name from a second meter: one family, one HELP/TYPE block
  metrics.getMeter('shop-2').createCounter('shop.orders', { unit: '{order}' }).add(1, { 'payment.method': 'cash' });
  // attribute keys that collide once sanitised, and values that need escaping
  meter
    .createUpDownCounter('odd.labels', { valueType: ValueType.INT })
    .add(1, { 'a.b': 'x', a_b: 'y', quote: 'say "hi"\\now\n' });

  // a plain Node server measured by core alone (any framework works like this)
  const adapter = new AdapterCore('test', {});
  const handler = createMetricsHandler({}, runtime);
  server = createServer((req, res) => {
    if (req.url === '/metrics') return handler(req, res);
    const state = adapter.start(req, res);
    if (state !== undefined && req.url === '/plain') adapter.setRoute(state, '/plain');
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('the shared Prometheus handler', () => {
  it('exports user instruments with Prometheus names, merged families and sanitised labels', async () => {
    await (await fetch(url + '/plain')).text();
    const r = await scrape(url + '/metrics');
    const s = r.scrape;
    expect(s.value('shop_orders_total', { payment_method: 'card' })).toBe(3);
    expect(s.value('shop_orders_total', { payment_method: 'cash' })).toBe(1);
    expect(r.text.match(/# TYPE shop_orders_total counter/g)).toHaveLength(1);
    expect(s.count('shop_checkout_duration_seconds', { step: 'pay' })).toBe(1);
    expect(s.bucket('shop_checkout_duration_seconds', { step: 'pay' }, '0.1')).toBe(1);
    expect(s.value('shop_queue_depth', { queue: 'mail' })).toBe(7);
    queueDepth = 9;
    expect((await scrape(url + '/metrics')).scrape.value('shop_queue_depth', { queue: 'mail' })).toBe(9);
    expect(s.value('odd_labels', { a_b: 'x;y', quote: 'say "hi"\\now\n' })).toBe(1);
    expect(r.text).toContain('service_name="core-test"');
    expect(s.count('http_server_request_duration_seconds', {
      http_request_method: 'GET',
      http_route: '/plain',
      http_response_status_code: '200',
      url_scheme: 'http',
      network_protocol_version: '1.1',
    })).toBe(1);
    const check = promtoolCheck(r.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('translates units and kinds as the OpenTelemetry Prometheus rules say', () => {
    expect(prometheusName('http.server.request.duration', 's', 'histogram')).toBe('http_server_request_duration_seconds');
    expect(prometheusName('network.server.io', 'By', 'counter')).toBe('network_server_io_bytes');
    expect(prometheusName('http.server.active_requests', '{request}', 'gauge')).toBe('http_server_active_requests');
    expect(prometheusName('cpu.utilization', '1', 'gauge')).toBe('cpu_utilization_ratio');
    expect(prometheusName('throughput', 'By/s', 'gauge')).toBe('throughput_bytes_per_second');
    expect(prometheusName('jobs_total', '', 'counter')).toBe('jobs');
    expect(prometheusName('9lives', 'ms', 'gauge')).toBe('_9lives_milliseconds');
  });
});

describe('runtime configuration', () => {
  it('refuses a second configure() and bad buckets with clear messages', async () => {
    expect(() => configure({})).toThrow(/already configured/);
    const { Meterline } = await import('../src/index.js');
    expect(() => new Meterline({ durationBuckets: [1, 0.5] })).toThrow(/durationBuckets.*strictly increasing/);
    expect(() => new Meterline({ durationBuckets: [-1, 1] })).toThrow(/must not be negative/);
    expect(() => new Meterline({ durationBuckets: [] })).toThrow(/non-empty array/);
    expect(() => new Meterline({ maxRoutes: -5 })).toThrow(/maxRoutes.*from 1/);
    expect(() => new Meterline({ onError: 'log' as never })).toThrow(/onError.*function/);
    expect(() => new Meterline({ colour: 'red' } as never)).toThrow(/unknown option "colour"/);
  });

  it('answers 500 with a short message when collection fails, and 503 past the scrape limit', async () => {
    const failing = { scrape: () => Promise.reject(new Error('exporter broke')) } as never;
    const handler = createMetricsHandler({ timeoutMs: 50 }, failing);
    const hanging = createMetricsHandler({ timeoutMs: 50, maxConcurrentScrapes: 1 }, {
      scrape: () => new Promise(() => undefined),
    } as never);
    const s = createServer((req, res) => (req.url === '/hang' ? hanging(req, res) : handler(req, res)));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const res = await fetch(base + '/');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('metrics collection failed\n');
    const [first, second] = await Promise.all([fetch(base + '/hang'), fetch(base + '/hang')]);
    expect([first.status, second.status].sort()).toEqual([500, 503]);
    s.closeAllConnections();
    s.close();
  });
});

describe('endpoint protection and metrics server options', () => {
  it('basic auth and a custom check: 401 without data, 200 with the right credentials', async () => {
    const basic = await startMetricsServer({ port: 0, auth: { basic: { username: 'prom', password: 'pa:ss' } } });
    const custom = await startMetricsServer({ port: 0, auth: { check: (req) => req.headers['x-scraper'] === 'yes' } });
    try {
      const denied = await fetch(basic.url);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe('Basic realm="metrics"');
      expect(await denied.text()).not.toContain('http_server');
      const wrong = await fetch(basic.url, { headers: { authorization: 'Basic ' + Buffer.from('prom:nope').toString('base64') } });
      expect(wrong.status).toBe(401);
      await wrong.text();
      const ok = await scrape(basic.url, { headers: { authorization: 'Basic ' + Buffer.from('prom:pa:ss').toString('base64') } });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE http_server_request_duration_seconds histogram');
      expect((await fetch(custom.url)).status).toBe(401);
      expect((await scrape(custom.url, { headers: { 'x-scraper': 'yes' } })).status).toBe(200);
    } finally {
      await basic.close();
      await custom.close();
    }
  });

  it('startMetricsServer validates its options and binds 127.0.0.1 by default', async () => {
    await expect(startMetricsServer({ port: 70000 })).rejects.toThrow(/option "port" is 70000; expected an integer from 0 to 65535/);
    await expect(startMetricsServer({ port: -1 })).rejects.toThrow(/option "port"/);
    await expect(startMetricsServer({ host: '' })).rejects.toThrow(/option "host"/);
    await expect(startMetricsServer({ prt: 1 } as never)).rejects.toThrow(/unknown option "prt"/);
    await expect(startMetricsServer({ auth: { basic: { username: 'a', password: '' } } })).rejects.toThrow(/auth.basic/);
    const s = await startMetricsServer({ port: 0 });
    expect(s.host).toBe('127.0.0.1');
    await s.close();
  });
});
