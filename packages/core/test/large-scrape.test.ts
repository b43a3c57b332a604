// A large exposition (~50k sample lines, ~10 MB) served by the shared handler over a real loopback server: every
// sample arrives, the event loop keeps running while it is written and sent, and a scrape that comes out a few bytes
// longer than the last reuses the last one's output buffer instead of allocating a fresh ~10 MB one each time.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetricsHandler, Meterline } from '../src/index.js';
import type { Series } from '../src/series.js';

const TARGET_LINES = 50_000;
const STATUSES = [200, 201, 204, 301, 304, 400, 401, 403, 404, 500];

let runtime: Meterline;
let server: Server;
let port: number;
let series: Series[];
let perSeries: number;
let handler: ReturnType<typeof createMetricsHandler>;

/** GET /metrics: the body, and how many chunks it came in. */
function get(): Promise<{ text: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      // decoded as it arrives: Buffer.concat calls Buffer.allocUnsafe on Node 20, which the buffer-reuse test counts
      const decoder = new TextDecoder();
      let text = '';
      let chunks = 0;
      res.on('data', (c: Buffer) => {
        text += decoder.decode(c, { stream: true });
        chunks++;
      });
      res.on('end', () => resolve({ text: text + decoder.decode(), chunks }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function sampleLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

beforeAll(async () => {
  runtime = new Meterline({ registerGlobal: false, selfMetrics: false });
  const store = runtime.store;
  // one series = three histograms: duration, request size, response size
  perSeries =
    store.durationBuckets.length + store.requestSizeBuckets.length + store.responseSizeBuckets.length + 9;
  series = [];
  for (let i = 0; series.length * perSeries < TARGET_LINES; i++) {
    const route = store.route(`/api/v${i % 3}/resource${Math.floor(i / 10)}/:id`);
    const s = store.series(route, i % 3, 0, 1, STATUSES[i % STATUSES.length], undefined);
    for (let k = 0; k < 5; k++) {
      s.duration.record(0.001 * (k + 1));
      s.requestSize.record(k * 100);
      s.responseSize.record(k * 1000 + i);
    }
    series.push(s);
  }
  handler = createMetricsHandler({}, runtime);
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await runtime.shutdown();
});

describe('a 50k-line exposition over loopback', () => {
  it('arrives whole, in many chunks, with timers running while it is written and sent', async () => {
    let ticks = 0;
    const probe = setInterval(() => ticks++, 1);
    const { text, chunks } = await get();
    clearInterval(probe);
    const lines = sampleLines(text);
    expect(lines.length).toBeGreaterThanOrEqual(series.length * perSeries);
    // the request histograms: every series' lines, nothing else of theirs
    const request = lines.filter((l) => /^http_server_(request|response)_/.test(l));
    expect(request).toHaveLength(series.length * perSeries);
    const labels =
      'http_request_method="GET",http_route="/api/v0/resource0/:id",http_response_status_code="200",' +
      'url_scheme="http",network_protocol_version="1.1"';
    expect(text).toContain(`http_server_request_duration_seconds_count{${labels}} 5\n`);
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="+Inf"} 5\n`);
    expect(text).toContain(`http_server_response_body_size_bytes_sum{${labels}} 10000\n`);
    expect(text.endsWith('\n')).toBe(true);
    expect(chunks).toBeGreaterThan(10);
    // the writer and the sender yield between steps: a 1 ms timer fires during the scrape, more than once
    expect(ticks).toBeGreaterThan(1);
  });

  it('reuses the output buffer when the next exposition is a few bytes longer', async () => {
    // a handler of its own starts without buffers: its first scrape allocates one sized to the last exposition
    handler = createMetricsHandler({}, runtime);
    await get();
    // a count gains a digit (5 -> 10): the next exposition is longer by a byte per line of that series
    for (let k = 0; k < 5; k++) series[0].duration.record(0.5);
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      await get();
      // sized from the longer exposition now: the buffer it reuses was sized from the shorter one
      const { text } = await get();
      expect(text).toMatch(
        /http_server_request_duration_seconds_count\{[^}]*route="\/api\/v0\/resource0\/:id"[^}]*\} 10\n/,
      );
      const large = allocUnsafe.mock.calls.filter(([size]) => size >= 1024 * 1024);
      expect(large).toEqual([]);
    } finally {
      allocUnsafe.mockRestore();
    }
  });
});
