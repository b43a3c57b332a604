import { metrics, ValueType } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheck, rawRequest, scrape, Scrape } from '@meterline/testing';
import { fileServer } from './helpers/file-server.js';
import {
  configure,
  createMetricsHandler,
  getMeterline,
  prometheusName,
  setRoute,
  startMetricsServer,
  withMetrics,
} from '../src/index.js';
import { sendInSlices, writeInSteps } from '../src/handler.js';
import { ExpositionWriter, OutputBuffers, serializeToBuffer } from '../src/serializer.js';

const server = fileServer();
let url: string;
let queueDepth = 7;

beforeAll(async () => {
  configure({ serviceName: 'core-test' });
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
  metrics
    .getMeter('shop-2')
    .createCounter('shop.orders', { unit: '{order}' })
    .add(1, { 'payment.method': 'cash' });
  // attribute keys that collide once sanitised, and values that need escaping
  meter
    .createUpDownCounter('odd.labels', { valueType: ValueType.INT })
    .add(1, { 'a.b': 'x', a_b: 'y', quote: 'say "hi"\\now\n' });

  // a plain Node server measured by core alone: the public `withMetrics` listener and `setRoute`
  url = await server.start(
    withMetrics((req, res) => {
      if (req.url === '/plain') setRoute(req, '/plain');
      const empty = /^\/empty\/(\d+)$/.exec(req.url ?? '');
      if (empty !== null) {
        // a body written where Node drops it: nothing may be counted
        setRoute(req, '/empty/:code');
        res.writeHead(Number(empty[1]), { 'x-test': '1' });
        res.end('dropped body');
        return;
      }
      if (req.url === '/implicit') {
        setRoute(req, '/implicit');
        res.statusCode = 201;
        res.write('abc');
        res.end(Buffer.from('de'));
        return;
      }
      res.end('hello');
    }),
  );
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
    expect(
      s.count('http_server_request_duration_seconds', {
        http_request_method: 'GET',
        http_route: '/plain',
        http_response_status_code: '200',
        url_scheme: 'http',
        network_protocol_version: '1.1',
      }),
    ).toBe(1);
    const check = promtoolCheck(r.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('takes the status from the written head and counts no body where Node sends none (HEAD, 204, 304)', async () => {
    const SIZE = 'http_server_response_body_size_bytes';
    const get = (path: string, method = 'GET') =>
      new Promise<number>((resolve, reject) => {
        const req = request(url + path, { method }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode as number));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/empty/204')).toBe(204);
    expect(await get('/empty/304')).toBe(304);
    expect(await get('/empty/200', 'HEAD')).toBe(200);
    expect(await get('/empty/200')).toBe(200);
    expect(await get('/implicit')).toBe(201);
    const s = (await scrape(url + '/metrics')).scrape;
    const labels = (route: string, code: string, method = 'GET') => ({
      http_route: route,
      http_response_status_code: code,
      http_request_method: method,
      url_scheme: 'http',
      network_protocol_version: '1.1',
    });
    expect(s.count(SIZE, labels('/empty/:code', '204'))).toBe(1);
    expect(s.sum(SIZE, labels('/empty/:code', '204'))).toBe(0);
    expect(s.count(SIZE, labels('/empty/:code', '304'))).toBe(1);
    expect(s.sum(SIZE, labels('/empty/:code', '304'))).toBe(0);
    expect(s.sum(SIZE, labels('/empty/:code', '200', 'HEAD'))).toBe(0);
    expect(s.sum(SIZE, labels('/empty/:code', '200'))).toBe('dropped body'.length);
    expect(s.count(SIZE, labels('/implicit', '201'))).toBe(1);
    expect(s.sum(SIZE, labels('/implicit', '201'))).toBe(5);
  });

  it('labels the protocol version and method from the request head (HTTP/1.0, POST, unknown methods)', async () => {
    const port = Number(new URL(url).port);
    expect(await rawRequest(port, 'GET /plain HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
    expect(
      await rawRequest(
        port,
        'POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
      ),
    ).toMatch(/^HTTP\/1\.1 200/);
    expect(await rawRequest(port, 'PURGE /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 200/,
    );
    const s = (await scrape(url + '/metrics')).scrape;
    const labels = (method: string, version: string) => ({
      http_route: '/plain',
      http_response_status_code: '200',
      http_request_method: method,
      url_scheme: 'http',
      network_protocol_version: version,
    });
    expect(s.count('http_server_request_duration_seconds', labels('GET', '1.0'))).toBe(1);
    expect(s.count('http_server_request_duration_seconds', labels('POST', '1.1'))).toBe(1);
    expect(s.sum('http_server_request_body_size_bytes', labels('POST', '1.1'))).toBe(3);
    expect(s.count('http_server_request_duration_seconds', labels('_OTHER', '1.1'))).toBe(1);
  });

  it('withMetrics records what a plain listener throws, or its promise rejects, and passes it on unchanged', async () => {
    const caught: string[] = [];
    const wrapped = withMetrics(
      (req) => {
        setRoute(req, req.url as string);
        if (req.url === '/sync') throw new RangeError('sync');
        return Promise.resolve().then(() => {
          throw new SyntaxError('async');
        });
      },
      { path: false },
    );
    // the app's own outer handler answers what the listener failed to
    const fail = (res: import('node:http').ServerResponse) => (err: unknown) => {
      caught.push((err as Error).name);
      res.statusCode = 500;
      res.end('failed');
    };
    const own = createServer((req, res) => {
      try {
        (wrapped(req, res) as Promise<unknown>).catch(fail(res));
      } catch (err) {
        fail(res)(err);
      }
    });
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
    try {
      expect((await fetch(base + '/sync')).status).toBe(500);
      expect((await fetch(base + '/async')).status).toBe(500);
    } finally {
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
    }
    expect(caught.sort()).toEqual(['RangeError', 'SyntaxError']);
    const s = (await scrape(url + '/metrics')).scrape;
    const labels = (route: string, errorType: string) => ({
      http_route: route,
      http_response_status_code: '500',
      http_request_method: 'GET',
      url_scheme: 'http',
      network_protocol_version: '1.1',
      error_type: errorType,
    });
    expect(s.count('http_server_request_duration_seconds', labels('/sync', 'RangeError'))).toBe(1);
    expect(s.count('http_server_request_duration_seconds', labels('/async', 'SyntaxError'))).toBe(1);
  });

  it('translates units and kinds as the OpenTelemetry Prometheus rules say', () => {
    expect(prometheusName('http.server.request.duration', 's', 'histogram')).toBe(
      'http_server_request_duration_seconds',
    );
    expect(prometheusName('network.server.io', 'By', 'counter')).toBe('network_server_io_bytes');
    expect(prometheusName('http.server.active_requests', '{request}', 'gauge')).toBe(
      'http_server_active_requests',
    );
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
    expect(() => new Meterline({ durationBuckets: [1, 0.5] })).toThrow(
      /durationBuckets.*strictly increasing/,
    );
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

  it('sends a large exposition in slices and reuses its buffers without mixing concurrent or aborted responses', async () => {
    // 15,000 lines (~0.5 MB): several slices per response, and buffers handed from one scrape to the next. Every
    // collection observes new values (round * 1e6 + gauge * 1e4 + item), so a response whose buffer another scrape
    // wrote into while it was still being sent would mix rounds.
    const meter = metrics.getMeter('big');
    const rounds = new Array<number>(10).fill(0);
    for (let g = 0; g < 10; g++) {
      meter.createObservableGauge(`big.gauge${g}`).addCallback((r) => {
        const round = ++rounds[g];
        for (let i = 0; i < 1500; i++) r.observe(round * 1e6 + g * 10_000 + i, { item: `item-${i}` });
      });
    }
    const get = async (encoding: string) => {
      const res = await fetch(url + '/metrics', { headers: { 'accept-encoding': encoding } });
      expect(res.status).toBe(200);
      return res.text(); // fetch decompresses gzip
    };
    // one client gives up after the first bytes: its buffer is never handed back, nothing breaks
    await new Promise<void>((resolve, reject) => {
      const req = request(url + '/metrics', (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) =>
        (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err),
      );
      req.end();
    });
    const texts: string[] = [];
    texts.push(
      ...(await Promise.all([get('identity'), get('identity'), get('gzip'), get('identity')])),
      await get('identity'),
      await get('gzip'),
      await get('identity'),
    );
    const seen = new Set<number>();
    for (const text of texts) {
      expect(text.length).toBeGreaterThan(3 * 256 * 1024 * 0.6);
      const lines = text.split('\n').filter((l) => l.startsWith('big_gauge'));
      expect(lines).toHaveLength(15_000);
      const s = new Scrape(text);
      const round = Math.floor((s.value('big_gauge0', { item: 'item-0' }) as number) / 1e6);
      seen.add(round);
      for (const line of lines) {
        const m = /^big_gauge(\d+)\{.*item="item-(\d+)".*\} (\S+)$/.exec(line);
        expect(m, line).not.toBeNull();
        const [, g, i, v] = m as RegExpExecArray;
        if (Number(v) !== round * 1e6 + Number(g) * 10_000 + Number(i)) expect(line).toBe(`round ${round}`);
      }
    }
    expect(seen.size).toBe(texts.length); // one collection per response
  });
});

describe('endpoint protection and metrics server options', () => {
  it('basic auth and a custom check: 401 without data, 200 with the right credentials', async () => {
    const basic = await startMetricsServer({
      port: 0,
      auth: { basic: { username: 'prom', password: 'pa:ss' } },
    });
    const custom = await startMetricsServer({
      port: 0,
      auth: { check: (req) => req.headers['x-scraper'] === 'yes' },
    });
    try {
      const denied = await fetch(basic.url);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe('Basic realm="metrics"');
      expect(await denied.text()).not.toContain('http_server');
      const wrong = await fetch(basic.url, {
        headers: { authorization: 'Basic ' + Buffer.from('prom:nope').toString('base64') },
      });
      expect(wrong.status).toBe(401);
      await wrong.text();
      const ok = await scrape(basic.url, {
        headers: { authorization: 'Basic ' + Buffer.from('prom:pa:ss').toString('base64') },
      });
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
    await expect(startMetricsServer({ port: 70000 })).rejects.toThrow(
      /option "port" is 70000; expected an integer from 0 to 65535/,
    );
    await expect(startMetricsServer({ port: -1 })).rejects.toThrow(/option "port"/);
    await expect(startMetricsServer({ host: '' })).rejects.toThrow(/option "host"/);
    await expect(startMetricsServer({ prt: 1 } as never)).rejects.toThrow(/unknown option "prt"/);
    await expect(startMetricsServer({ auth: { basic: { username: 'a', password: '' } } })).rejects.toThrow(
      /auth.basic/,
    );
    const s = await startMetricsServer({ port: 0 });
    expect(s.host).toBe('127.0.0.1');
    await s.close();
  });
});

describe('sending a large exposition', () => {
  /** A response that keeps every slice it is given (as a socket with a full buffer would) until told to drain. */
  function fakeResponse() {
    const res = new EventEmitter() as EventEmitter & {
      destroyed: boolean;
      held: Buffer[];
      ended: boolean;
      write(chunk: Buffer): boolean;
      end(chunk: Buffer, cb: () => void): void;
    };
    res.destroyed = false;
    res.held = [];
    res.ended = false;
    res.write = (chunk) => {
      res.held.push(chunk);
      return false;
    };
    res.end = (chunk, cb) => {
      res.held.push(chunk);
      res.ended = true;
      setImmediate(cb);
    };
    return res;
  }
  const turn = () => new Promise((r) => setImmediate(r));

  it('hands the buffer back only after the last slice is sent, never for a destroyed response', async () => {
    const buffers = new OutputBuffers();
    const backing = Buffer.alloc(1_000_000);
    for (let i = 0; i < backing.length; i++) backing[i] = 97 + (i % 26);
    const body = backing.subarray(0, 900_000);
    const res = fakeResponse();
    sendInSlices(res as never, body, backing, buffers);
    while (!res.ended) {
      expect(buffers.take()).toBeUndefined(); // still being sent: another scrape must not write into it
      res.emit('drain');
      await turn();
    }
    await turn();
    expect(Buffer.concat(res.held).equals(body)).toBe(true);
    expect(res.held.length).toBe(Math.ceil(900_000 / (256 * 1024)));
    expect(buffers.take()).toBe(backing);

    const aborted = fakeResponse();
    sendInSlices(aborted as never, body, backing, buffers);
    aborted.destroyed = true;
    aborted.emit('drain');
    await turn();
    expect(aborted.ended).toBe(false);
    expect(buffers.take()).toBeUndefined();
  });

  it('writes a large exposition in steps, one per event-loop turn, and stops for a destroyed response', async () => {
    const collected = await getMeterline().collect(); // this file's instruments, the 15,000 gauges above included
    const whole = serializeToBuffer(collected);
    // count the loop's turns while writing with a step of 0 ms: it yields at every clock check
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const buffers = new OutputBuffers();
    const res = fakeResponse();
    const written = await writeInSteps(
      new ExpositionWriter(collected, {}, undefined),
      res as never,
      buffers,
      0,
    );
    counting = false;
    expect(written?.bytes.equals(whole)).toBe(true);
    const points = collected.scopeMetrics.reduce(
      (n, s) => n + s.metrics.reduce((m, metric) => m + metric.dataPoints.length, 0),
      0,
    );
    expect(points).toBeGreaterThan(15_000);
    expect(turns).toBeGreaterThanOrEqual(Math.floor(points / 32) - 1);

    const gone = fakeResponse();
    const pending = writeInSteps(new ExpositionWriter(collected, {}, undefined), gone as never, buffers, 0);
    gone.destroyed = true;
    expect(await pending).toBeUndefined();
    expect(buffers.take()).toBeDefined(); // its buffer was handed back for the next scrape
  });
});
