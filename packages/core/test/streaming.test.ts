// Streaming and upgrades: server-sent events and large downloads get a time to first byte of their own (the
// duration stays the length of the stream), and WebSocket upgrades (101) and CONNECT tunnels are counted, never
// recorded as request durations. A real server, real sockets, a real scrape.
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, scrape, type Scrape } from '@meterline/testing';
import { configure, setRoute, withMetrics } from '../src/index.js';

let server: Server;
let port: number;
let base: string;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  configure({ timeToFirstByte: true, durationBuckets: [0.05, 0.25, 1, 5] });
  server = createServer(
    withMetrics((req, res) => {
      if (req.url === '/events') {
        // server-sent events: the head at once, then an event every 100 ms, for ~400 ms
        setRoute(req, '/events');
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        let n = 0;
        const timer = setInterval(() => {
          res.write(`data: ${n}\n\n`);
          if (++n === 4) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
        return;
      }
      if (req.url === '/download') {
        // a large body written in slices over ~300 ms: the head goes with the first slice
        setRoute(req, '/download');
        const slice = Buffer.alloc(256 * 1024, 97);
        let left = 6;
        const next = (): void => {
          if (--left === 0) res.end(slice);
          else {
            res.write(slice);
            setTimeout(next, 60);
          }
        };
        next();
        return;
      }
      if (req.url === '/slow') {
        // an ordinary slow answer: time to first byte and duration are both ~300 ms
        setRoute(req, '/slow');
        setTimeout(() => res.end('late'), 300);
        return;
      }
      if (req.url === '/socket') {
        // a WebSocket handshake answered by the app itself (no 'upgrade' listener on this server)
        setRoute(req, '/socket');
        res.writeHead(101, { Upgrade: 'websocket', Connection: 'Upgrade' });
        res.end();
        return;
      }
      setRoute(req, '/fast');
      res.end('ok');
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const labels = (route: string, status = '200'): Record<string, string> => ({
  http_request_method: 'GET',
  http_route: route,
  http_response_status_code: status,
  url_scheme: 'http',
  network_protocol_version: '1.1',
});
const TTFB = 'http_server_request_time_to_first_byte_seconds';
const DURATION = 'http_server_request_duration_seconds';

/** Raw bytes to the server; resolves with what came back before the server or `ms` ended it. */
function raw(payload: string, ms = 300): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    setTimeout(() => socket.destroy(), ms);
  });
}

describe('time to first byte', () => {
  let s: Scrape;
  beforeAll(async () => {
    await Promise.all([
      fetch(`${base}/events`).then((r) => r.text()),
      fetch(`${base}/download`).then((r) => r.arrayBuffer()),
      fetch(`${base}/slow`).then((r) => r.text()),
      fetch(`${base}/fast`).then((r) => r.text()),
    ]);
    s = (await scrape(`${base}/metrics`)).scrape;
  });

  it('keeps a stream out of the latency: its first byte came at once, its duration is the stream', () => {
    expect(s.types.get(TTFB)).toBe('histogram');
    for (const route of ['/events', '/download']) {
      expect(s.count(TTFB, labels(route)), route).toBe(1);
      expect(s.bucket(TTFB, labels(route), '0.05'), route).toBe(1);
      expect(s.bucket(DURATION, labels(route), '0.25'), route).toBe(0);
      expect(s.sum(DURATION, labels(route)), route).toBeGreaterThan(0.25);
    }
  });

  it('is the whole wait for an answer that is slow to start', () => {
    expect(s.bucket(TTFB, labels('/slow'), '0.25')).toBe(0);
    expect(s.sum(TTFB, labels('/slow'))).toBeGreaterThan(0.25);
    expect(s.sum(TTFB, labels('/slow'))).toBeLessThanOrEqual(s.sum(DURATION, labels('/slow')));
    expect(s.count(TTFB, labels('/fast'))).toBe(1);
    expect(s.bucket(TTFB, labels('/fast'), '0.05')).toBe(1);
  });
});

describe('upgrades and CONNECT', () => {
  it("keeps an app's own 101 answer out of the request duration and counts it", async () => {
    const answer = await raw(
      'GET /socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    await eventually(async () => {
      const t = (await scrape(`${base}/metrics`)).scrape;
      return t.value('meterline_http_server_upgrades_total', { http_request_method: 'GET' }) === 1;
    });
    const t = (await scrape(`${base}/metrics`)).scrape;
    expect(t.value('meterline_http_server_upgrades_total', { http_request_method: 'GET' })).toBe(1);
    expect(t.samples(DURATION, { http_route: '/socket' })).toHaveLength(0);
    expect(t.samples(TTFB, { http_route: '/socket' })).toHaveLength(0);
  });

  it("counts upgrades and tunnels handed to the server's 'upgrade' and 'connect' listeners", async () => {
    const before = (await scrape(`${base}/metrics`)).scrape;
    const requestsBefore = before.totalCount(DURATION);
    // the app's WebSocket server and proxy, added after meterline saw the server's first request
    server.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    server.on('connect', (_req, socket) => socket.end('HTTP/1.1 200 Connection Established\r\n\r\n'));
    expect(
      await raw('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 101 /);
    const tunnel = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'CONNECT', path: 'example.com:443' });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(tunnel).toBe(200);
    await sleep(50);
    const after = (await scrape(`${base}/metrics`)).scrape;
    expect(after.value('meterline_http_server_upgrades_total', { http_request_method: 'GET' })).toBe(2);
    expect(after.value('meterline_http_server_upgrades_total', { http_request_method: 'CONNECT' })).toBe(1);
    // neither became a request (the scrape itself is not measured)
    expect(after.totalCount(DURATION)).toBe(requestsBefore);
    // ours goes when the app's last listener goes: Node answers upgrades as plain requests again
    server.removeAllListeners('upgrade');
    server.removeAllListeners('connect');
    expect(server.listenerCount('upgrade')).toBe(0);
    expect(server.listenerCount('connect')).toBe(0);
    const plain = await raw(
      'GET /socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(plain).toMatch(/^HTTP\/1\.1 101 /);
  });
});
