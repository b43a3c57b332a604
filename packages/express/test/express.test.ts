import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortAfterHeaders,
  abortMidRequest,
  eventually,
  promtoolCheck,
  scrape,
  type Scrape,
} from '@meterline/testing';
import { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';
const REQ_SIZE = 'http_server_request_body_size_bytes';
const RES_SIZE = 'http_server_response_body_size_bytes';
const base = { url_scheme: 'http', network_protocol_version: '1.1' };
const get = (route: string | undefined, status: number, extra: Record<string, string> = {}) => ({
  http_request_method: 'GET',
  ...(route === undefined ? {} : { http_route: route }),
  http_response_status_code: String(status),
  ...base,
  ...extra,
});

let server: Server;
let port: number;
let url: string;

class DatabaseError extends Error {}

beforeAll(async () => {
  const app = express();
  // registered before the middleware: must be measured all the same
  app.get('/early', (_req, res) => {
    res.send('early');
  });
  app.use(metrics());
  app.get('/reserved', (_req, res) => {
    res.send('ok');
  });
  app.use(express.json());
  app.use(express.raw({ type: 'application/octet-stream' }));

  const repos = express.Router({ mergeParams: true });
  repos.get('/:repo', (req, res) => {
    res.json({ repo: (req.params as Record<string, string>).repo });
  });
  const orgs = express.Router({ mergeParams: true });
  orgs.get('/', (_req, res) => {
    res.send('org');
  });
  orgs.use('/repos', repos);
  const v1 = express.Router();
  v1.use('/orgs/:org', orgs);
  v1.get(['/alpha', '/beta'], (_req, res) => {
    res.send('ab');
  });
  // a router the request passes through without matching, before the one that answers
  const other = express.Router();
  other.get('/never', (_req, res) => {
    res.send('never');
  });
  app.use('/api/v1', other);
  app.use('/api/v1', v1);

  app
    .route('/users/:id')
    .get((_req, res) => {
      res.send('user');
    })
    .post((req, res) => {
      res.status(201).json({ got: (req.body as Buffer).length });
    });
  app.get(/^\/files\/(\d+)$/, (_req, res) => {
    res.send('file');
  });
  app.get('/boom', async () => {
    throw new DatabaseError('down');
  });
  app.get('/sync-boom', () => {
    throw new TypeError('bad');
  });
  app.get('/unavailable', (_req, res) => {
    res.status(503).send('later');
  });
  app.get('/slow', async (_req, res) => {
    await new Promise((r) => setTimeout(r, 300));
    res.send('slow');
  });
  app.get('/stream', (_req, res) => {
    res.write('a'.repeat(1000));
    setTimeout(() => res.end('b'.repeat(500)), 20);
  });
  app.head('/head', (_req, res) => {
    res.set('content-length', '1234').end();
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function hit(path: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url + path, init);
  await res.arrayBuffer();
  return res.status;
}

async function metricsNow(): Promise<Scrape> {
  const r = await scrape(url + '/metrics');
  expect(r.status).toBe(200);
  return r.scrape;
}

describe('express: route templates', () => {
  it('records nested routers, params in mount paths, arrays, regex, route chains and early routes', async () => {
    expect(await hit('/early')).toBe(200);
    expect(await hit('/api/v1/orgs/acme/repos/web')).toBe(200);
    expect(await hit('/api/v1/orgs/globex/repos/api')).toBe(200);
    expect(await hit('/api/v1/orgs/acme')).toBe(200);
    expect(await hit('/api/v1/alpha')).toBe(200);
    expect(await hit('/api/v1/beta')).toBe(200);
    expect(await hit('/api/v1/beta')).toBe(200);
    expect(await hit('/users/1')).toBe(200);
    expect(await hit('/users/2')).toBe(200);
    expect(await hit('/files/42')).toBe(200);
    const s = await metricsNow();
    expect(s.count(DURATION, get('/early', 200))).toBe(1);
    expect(s.count(DURATION, get('/api/v1/orgs/:org/repos/:repo', 200))).toBe(2);
    expect(s.count(DURATION, get('/api/v1/orgs/:org', 200))).toBe(1);
    expect(s.count(DURATION, get('/api/v1/alpha', 200))).toBe(1);
    expect(s.count(DURATION, get('/api/v1/beta', 200))).toBe(2);
    expect(s.count(DURATION, get('/users/:id', 200))).toBe(2);
    expect(s.count(DURATION, get(String(/^\/files\/(\d+)$/), 200))).toBe(1);
    // no raw path ever becomes a route
    for (const m of s.samples(DURATION)) {
      expect(m.labels?.http_route ?? '').not.toMatch(/acme|globex|\/users\/\d/);
    }
  });

  it('gives unmatched requests no http.route and unknown methods _OTHER', async () => {
    expect(await hit('/nope/1')).toBe(404);
    expect(await hit('/api/v1/nothing')).toBe(404);
    expect(await hit('/users/1', { method: 'PURGE' })).toBe(404);
    const s = await metricsNow();
    expect(s.count(DURATION, get(undefined, 404))).toBe(2);
    expect(
      s.count(DURATION, { http_request_method: '_OTHER', http_response_status_code: '404', ...base }),
    ).toBe(1);
  });
});

describe('express: errors and status codes', () => {
  it('sets error.type to the exception class for thrown errors and to the status for 5xx replies', async () => {
    expect(await hit('/boom')).toBe(500);
    expect(await hit('/boom')).toBe(500);
    expect(await hit('/sync-boom')).toBe(500);
    expect(await hit('/unavailable')).toBe(503);
    expect(await hit('/users/7', { method: 'DELETE' })).toBe(404);
    const s = await metricsNow();
    expect(s.count(DURATION, get('/boom', 500, { error_type: 'DatabaseError' }))).toBe(2);
    expect(s.count(DURATION, get('/sync-boom', 500, { error_type: 'TypeError' }))).toBe(1);
    expect(s.count(DURATION, get('/unavailable', 503, { error_type: '503' }))).toBe(1);
    // 4xx is not a server error
    expect(
      s.samples(DURATION, { http_response_status_code: '404' }).every((m) => !m.labels?.error_type),
    ).toBe(true);
  });
});

describe('express: bodies and bytes', () => {
  it('counts request and response body bytes exactly, chunked and fixed length, HEAD without a body', async () => {
    const before = await metricsNow();
    const post = {
      http_request_method: 'POST',
      http_route: '/users/:id',
      http_response_status_code: '201',
      ...base,
    };
    const readBefore = before.value('network_server_io_bytes_total', {
      network_io_direction: 'receive',
      network_transport: 'tcp',
      server_port: String(port),
    });
    const bodies = [100, 2500, 7];
    let sentBytes = 0;
    for (const n of bodies) {
      const body = Buffer.alloc(n, 1);
      sentBytes += n;
      expect(
        await hit('/users/3', {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/octet-stream' },
        }),
      ).toBe(201);
    }
    expect(await hit('/stream')).toBe(200);
    expect(await hit('/head', { method: 'HEAD' })).toBe(200);
    const s = await metricsNow();
    expect(s.count(REQ_SIZE, post) - before.count(REQ_SIZE, post)).toBe(3);
    expect(s.sum(REQ_SIZE, post) - before.sum(REQ_SIZE, post)).toBe(sentBytes);
    const expectedResponse = bodies.map((n) => JSON.stringify({ got: n }).length).reduce((a, b) => a + b, 0);
    expect(s.sum(RES_SIZE, post) - before.sum(RES_SIZE, post)).toBe(expectedResponse);
    expect(s.sum(RES_SIZE, get('/stream', 200))).toBe(1500);
    expect(s.sum(RES_SIZE, { ...get('/head', 200), http_request_method: 'HEAD' })).toBe(0);
    const read = s.value('network_server_io_bytes_total', {
      network_io_direction: 'receive',
      network_transport: 'tcp',
      server_port: String(port),
    });
    expect(read - readBefore).toBeGreaterThanOrEqual(sentBytes);
    expect(
      s.value('network_server_active_connections', { network_transport: 'tcp', server_port: String(port) }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('express: aborts and in-flight', () => {
  it('shows in-flight requests while they run and counts aborted ones once, with error.type=aborted', async () => {
    const slow = Promise.all([hit('/slow'), hit('/slow'), hit('/slow')]);
    await new Promise((r) => setTimeout(r, 100));
    const during = await metricsNow();
    expect(
      during.value('http_server_active_requests', { http_request_method: 'GET', url_scheme: 'http' }),
    ).toBe(3);
    await slow;

    await abortMidRequest(port, '/users/9', 1000, 10);
    await abortAfterHeaders(port, '/stream');
    const aborted = async () => {
      const s = await metricsNow();
      return (
        // the body parser runs before routing, so a request aborted mid-body never reached its route
        s.count(DURATION, { http_request_method: 'POST', ...base, error_type: 'aborted' }) === 1 &&
        // aborted after the headers went out: the status is known
        s.count(DURATION, get('/stream', 200, { error_type: 'aborted' })) === 1
      );
    };
    expect(await eventually(aborted)).toBe(true);
    const s = await metricsNow();
    expect(s.count(DURATION, get('/slow', 200))).toBe(3);
    for (const m of s.samples('http_server_active_requests')) expect(Number(m.value)).toBe(0);
  });
});

describe('express: early reservation', () => {
  it('reserves each request first in line (one extra request listener) and counts the reserved ones', async () => {
    const before = (await metricsNow()).count(DURATION, get('/reserved', 200));
    for (let i = 0; i < 3; i++) expect(await hit('/reserved')).toBe(200);
    // Express swaps the prototypes of req/res: their state is reserved by a listener ahead of Express's own
    expect(server.listenerCount('request')).toBe(2);
    expect(
      await eventually(
        async () => (await metricsNow()).count(DURATION, get('/reserved', 200)) === before + 3,
      ),
    ).toBe(true);
  });
});

describe('express: cardinality and the endpoint', () => {
  it('adds no series for 1,000 random paths and never measures /metrics itself', async () => {
    const before = await metricsNow();
    const seriesBefore = before.seriesCount(DURATION);
    const count404 = before.count(DURATION, get(undefined, 404));
    for (let i = 0; i < 1000; i++) {
      await hit(`/random/${Math.random().toString(36).slice(2)}/${i}`);
    }
    const s = await metricsNow();
    expect(s.seriesCount(DURATION)).toBe(seriesBefore);
    expect(s.count(DURATION, get(undefined, 404)) - count404).toBe(1000);
    expect(s.text).not.toContain('/metrics');
    expect(s.text).not.toContain('/random/');
  });

  it('serves the 0.0.4 text format, gzip when accepted, HEAD, and 405 for other methods', async () => {
    const plain = await fetch(url + '/metrics', { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.headers.get('content-encoding')).toBeNull();
    await plain.arrayBuffer();
    const zipped = await scrape(url + '/metrics', { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.scrape.count(DURATION, get('/early', 200))).toBe(1);
    const head = await fetch(url + '/metrics', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(url + '/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.text()).not.toContain('http_server');
  });

  it('passes promtool check metrics with no finding, one HELP/TYPE block per family', async () => {
    const r = await scrape(url + '/metrics');
    const check = promtoolCheck(r.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    const types = r.text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
    for (const name of [
      'http_server_request_duration_seconds',
      'http_server_active_requests',
      'http_server_request_body_size_bytes',
      'http_server_response_body_size_bytes',
      'network_server_io_bytes_total',
      'network_server_active_connections',
      'network_server_connection_duration_seconds',
    ]) {
      expect(r.text).toContain(`# TYPE ${name} `);
    }
    // semconv bucket advice
    expect(r.text).toContain('le="0.005"');
    expect(r.text).toContain('le="10"');
  });
});
