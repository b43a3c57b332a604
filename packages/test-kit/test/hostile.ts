/**
 * Guarantees under hostile input and load, for every adapter: the process stays up, nothing a client sends
 * creates a series, memory stays flat, and under load every request the server received is counted exactly
 * once, per route and status, with in-flight back to 0.
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { abortAfterHeaders, abortBeforeResponse, eventually, rawRequest, scrape, type Scrape } from '@meterline/testing';
import { DURATION, series, thrownErrorType, type ConformanceApp } from './scenarios.js';

const TEMPLATES = new Set([
  '/static',
  '/items/:id',
  '/api/v1/orgs/:org/repos/:repo',
  '/api/v1/orgs/:org',
  '/status/:code',
  '/throw-sync',
  '/throw-async',
  '/slow',
  '/stream-slow',
  '/echo',
  '/fixed',
  '/chunked',
  '/compressed',
]);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY', '_OTHER']);

function randomPath(i: number): string {
  const alphabet = 'abcXYZ019-._~!$&\'()*+,;=:@%/';
  let p = '/';
  const n = 1 + (i % 40);
  for (let k = 0; k < n; k++) p += alphabet[Math.floor(Math.random() * alphabet.length)];
  return p;
}

/** Raw requests no well-behaved client sends. */
function hostilePayloads(round: number): Array<string | Buffer> {
  const out: Array<string | Buffer> = [];
  const req = (method: string, path: string, headers = '') =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;
  for (let i = 0; i < 1200; i++) out.push(req('GET', randomPath(i + round * 1200)));
  for (const p of ['/items/%zz', '/items/%E0%A4%A', '/%', '/%%%', '/items/%00', '/static%2F..%2F..', '/%2e%2e/%2e%2e/etc/passwd']) {
    out.push(req('GET', p));
  }
  for (const p of ['/../../etc/passwd', '/static/../items/1', '/./static', '//static', '/static/', '/STATIC', '/static?x=1#frag', '*']) {
    out.push(req('GET', p));
  }
  out.push(Buffer.concat([Buffer.from('GET /items/'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
  out.push(Buffer.concat([Buffer.from('GET /'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
  out.push(req('GET', '/items/' + 'a'.repeat(8000)));
  out.push(req('GET', '/' + 'b'.repeat(100_000)));
  for (const m of ['get', 'FOO', 'G E T', 'PURGE', 'M-SEARCH', 'PROPFIND', 'LINK', 'SOURCE', 'X'.repeat(300)]) out.push(req(m, '/static'));
  let many = '';
  for (let i = 0; i < 150; i++) many += `X-Junk-${i}: ${'j'.repeat(50)}\r\n`;
  out.push(req('GET', '/static', many));
  out.push(req('GET', '/static', 'Host: evil.example\r\nHost: other.example\r\n'));
  out.push(req('GET', '/static', `X-Huge: ${'h'.repeat(20_000)}\r\n`));
  for (let i = 0; i < 50; i++) {
    out.push(`GET /static HTTP/1.1\r\nHost: ${Math.random().toString(36)}.${'x'.repeat(i * 10)}\r\nConnection: close\r\n\r\n`);
  }
  out.push('GARBAGE\r\n\r\n', '\r\n\r\n', 'GET /static HTTP/9.9\r\n\r\n', 'GET /static HTTP/1.1\r\nContent-Length: -1\r\n\r\n');
  out.push('GET /static HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzzz\r\n');
  return out;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

export function hostile(app: ConformanceApp): void {
  describe(`${app.name}: hostile input`, () => {
    it('stays up, adds no series beyond routes x methods x statuses, memory flat', async () => {
      const running = await app.start();
      const base = `http://127.0.0.1:${running.port}`;
      const seriesAfter: number[] = [];
      const heap: number[] = [];
      let s: Scrape | undefined;
      for (let round = 0; round < 3; round++) {
        await inBatches(hostilePayloads(round), 25, (p) => rawRequest(running.port, p, 3000).catch(() => ''));
        const ok = await fetch(base + '/static');
        expect(ok.status).toBe(200);
        await ok.text();
        s = (await scrape(base + '/metrics')).scrape;
        seriesAfter.push(s.seriesCount(DURATION));
        heap.push(heapAfterGc());
      }
      const sent = hostilePayloads(0).length;
      console.log(
        `${app.name} hostile: 3 rounds of ${sent} raw requests; request series after each round ${seriesAfter.join(', ')}; ` +
          `heap after GC ${heap.map((h) => (h / 1048576).toFixed(1)).join(' -> ')} MB`,
      );
      // rounds 2 and 3 send new random paths but no new kinds of request: no new series
      expect(seriesAfter[2]).toBe(seriesAfter[1]);
      for (const m of s!.samples(DURATION)) {
        const labels = m.labels ?? {};
        if (labels.http_route !== undefined) expect(TEMPLATES.has(labels.http_route)).toBe(true);
        expect(METHODS.has(labels.http_request_method)).toBe(true);
      }
      expect(s!.text).not.toMatch(/evil\.example|etc\/passwd|X-Junk|bbbbbbbbbb/);
      // bounded by registered routes x methods x statuses: far below the thousands of requests sent
      expect(seriesAfter[2]).toBeLessThan(60);
      // no lasting heap growth between rounds (3,700 requests each)
      expect(heap[2] - heap[1]).toBeLessThan(8 * 1024 * 1024);
      await running.close();
    }, 60_000);
  });
}

/** The route template a request path must be recorded under (the oracle, independent of meterline). */
function oracleRoute(url: string): string | undefined {
  const path = url.split('?')[0];
  if (path === '/static') return '/static';
  if (/^\/items\/[^/]+$/.test(path)) return '/items/:id';
  if (/^\/status\/\d+$/.test(path)) return '/status/:code';
  if (['/throw-async', '/slow', '/stream-slow', '/fixed'].includes(path)) return path;
  return undefined;
}

export function load(app: ConformanceApp, total = 12_000): void {
  describe(`${app.name}: exact counts under load`, () => {
    it('counts every request the server received exactly once, per route and status; in-flight ends at 0', async () => {
      const running = await app.start();
      const base = `http://127.0.0.1:${running.port}`;
      // the oracle: what the server really received and answered, from Node's own events
      const truth = new Map<string, { method: string; route: string | undefined; status: number | undefined; aborted: boolean; n: number }>();
      running.server.on('request', (req, res) => {
        if (req.url?.startsWith('/metrics')) return;
        res.on('close', () => {
          const status = res.headersSent ? res.statusCode : undefined;
          const aborted = !res.writableFinished;
          const route = oracleRoute(req.url ?? '');
          const key = `${req.method} ${route} ${status} ${aborted}`;
          const e = truth.get(key) ?? { method: req.method ?? '', route, status, aborted, n: 0 };
          e.n++;
          truth.set(key, e);
        });
      });
      const before = (await scrape(base + '/metrics')).scrape;

      // concurrent scrapes never fail and never show negative in-flight
      let scrapeFailures = 0;
      let negative = 0;
      let scrapes = 0;
      let loading = true;
      const scraper = (async () => {
        while (loading) {
          try {
            const r = await scrape(base + '/metrics');
            scrapes++;
            if (r.status !== 200) scrapeFailures++;
            for (const m of r.scrape.samples('http_server_active_requests')) if (Number(m.value) < 0) negative++;
          } catch {
            scrapeFailures++;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      const paths = ['/static', '/items/7', '/items/8', '/fixed', '/throw-async', '/status/503', '/status/404', '/static?q=1'];
      const keepAlive = new Pool(base, { connections: 150 });
      const pipelined = new Pool(base, { connections: 10, pipelining: 8 });
      const closeAgent = new HttpAgent({ keepAlive: false, maxSockets: 40 });
      const sendClose = (path: string) =>
        new Promise<void>((resolve) => {
          const r = httpRequest(base + path, { agent: closeAgent, headers: { connection: 'close' } }, (res) => {
            res.resume();
            res.on('end', resolve);
            res.on('error', () => resolve());
          });
          r.on('error', () => resolve());
          r.end();
        });
      const jobs: Array<() => Promise<unknown>> = [];
      for (let i = 0; i < total; i++) {
        const path = paths[i % paths.length];
        const kind = i % 10;
        if (kind < 7) jobs.push(() => keepAlive.request({ path, method: i % 50 === 0 ? 'HEAD' : 'GET' }).then((r) => r.body.dump()));
        else if (kind < 9) jobs.push(() => pipelined.request({ path, method: 'GET' }).then((r) => r.body.dump()));
        else jobs.push(() => sendClose(path));
        if (i % 200 === 0) jobs.push(() => abortBeforeResponse(running.port, '/slow', 20));
        if (i % 200 === 100) jobs.push(() => abortAfterHeaders(running.port, '/stream-slow'));
      }
      // 200 requests in flight at a time
      let next = 0;
      let clientErrors = 0;
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          while (next < jobs.length) {
            const job = jobs[next++];
            await job().catch(() => clientErrors++);
          }
        }),
      );
      loading = false;
      await scraper;
      await keepAlive.close();
      await pipelined.close();
      closeAgent.destroy();

      // wait for every response to close (aborted /stream-slow handlers finish later), then compare
      const settled = await eventually(async () => {
        const s = (await scrape(base + '/metrics')).scrape;
        return s.samples('http_server_active_requests').every((m) => Number(m.value) === 0);
      }, 5000, 50);
      expect(settled).toBe(true);
      const after = (await scrape(base + '/metrics')).scrape;
      let received = 0;
      for (const e of truth.values()) {
        received += e.n;
        const extra: Record<string, string> =
          e.aborted ? { error_type: 'aborted' } : e.status !== undefined && e.status >= 500
            ? { error_type: e.route === '/throw-async' ? thrownErrorType(app, 'ConformanceError', e.status) : String(e.status) }
            : {};
        const labels = series(e.method, e.route, e.status, extra);
        expect({ key: labels, n: after.count(DURATION, labels) - before.count(DURATION, labels) }).toEqual({ key: labels, n: e.n });
      }
      const recorded = after.totalCount(DURATION) - before.totalCount(DURATION);
      expect(recorded).toBe(received);
      expect(received).toBeGreaterThan(total * 0.99);
      expect(truth.size).toBeGreaterThan(8);
      expect(scrapeFailures).toBe(0);
      expect(negative).toBe(0);
      expect(scrapes).toBeGreaterThan(3);
      console.log(`${app.name} load: ${received} requests received, ${clientErrors} client-side errors, ${scrapes} concurrent scrapes`);
      await running.close();
    }, 120_000);
  });
}
