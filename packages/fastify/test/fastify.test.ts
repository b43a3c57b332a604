import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortBeforeResponse,
  abortMidRequest,
  eventually,
  promtoolCheck,
  scrape,
  type Scrape,
} from '@meterline/testing';
import { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';
const ACTIVE = 'http_server_active_requests';
const REQ_SIZE = 'http_server_request_body_size_bytes';
const RES_SIZE = 'http_server_response_body_size_bytes';
const base = { url_scheme: 'http', network_protocol_version: '1.1' };
const labels = (
  method: string,
  route: string | undefined,
  status: number,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  http_request_method: method,
  ...(route === undefined ? {} : { http_route: route }),
  http_response_status_code: String(status),
  ...base,
  ...extra,
});
const get = (route: string | undefined, status: number, extra?: Record<string, string>) =>
  labels('GET', route, status, extra);

class DatabaseError extends Error {}
class HookError extends Error {}

let app: FastifyInstance;
let port: number;
let url: string;
let releaseSlow: (() => void) | undefined;

beforeAll(async () => {
  app = Fastify();
  // registered before the plugin: measured all the same
  app.get('/early', async () => 'early');
  await app.register(metrics);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  app.get('/static', async () => ({ ok: true }));
  app.get('/plain', async () => 'plain');
  app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  app.post('/users/:id', async (request, reply) => {
    reply.code(201);
    return { got: (request.body as Buffer).length };
  });
  app.get('/boom', async () => {
    throw new DatabaseError('down');
  });
  app.get('/bad-request', async () => {
    throw Object.assign(new RangeError('bad input'), { statusCode: 400 });
  });
  app.get('/unavailable', async (_request, reply) => {
    reply.code(503);
    return 'later';
  });
  app.get(
    '/hook-boom',
    {
      preHandler: async () => {
        throw new HookError('hook failed');
      },
    },
    async () => 'unreachable',
  );
  app.get('/health', { config: { metrics: false } }, async () => 'ok');
  app.get('/held', async () => {
    await new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    return 'released';
  });
  app.get('/slow', async () => {
    await new Promise((r) => setTimeout(r, 300));
    return 'slow';
  });
  app.post('/upload', async (request) => ({ got: (request.body as Buffer).length }));

  // a prefixed plugin with a nested encapsulated plugin (its own hooks, its own prefix)
  const repos: FastifyPluginAsync = async (instance) => {
    instance.addHook('onRequest', async () => undefined);
    instance.get('/:repo', async (request) => ({ repo: (request.params as { repo: string }).repo }));
    instance.get('/', async () => ['api', 'web']);
  };
  const api: FastifyPluginAsync = async (instance) => {
    instance.get('/orgs', async () => ['acme']);
    await instance.register(repos, { prefix: '/orgs/:org/repos' });
    // a not-found handler of its own: still measured, still no http.route
    instance.setNotFoundHandler(async (_request, reply) => {
      reply.code(404);
      return { error: 'no such api' };
    });
  };
  await app.register(api, { prefix: '/api' });

  // an access check registered after the plugin answers before the route runs: still counted, with its route
  await app.register(async (secured) => {
    secured.addHook('onRequest', async (_request, reply) => {
      reply.code(401).send({ error: 'who are you' });
      return reply;
    });
    secured.get('/admin/stats', async () => 'secret');
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  app.server.closeAllConnections();
  await app.close();
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

describe('fastify: route templates', () => {
  it('records static and param routes, plugin prefixes, nested encapsulated plugins and early routes', async () => {
    expect(await hit('/early')).toBe(200);
    expect(await hit('/static')).toBe(200);
    expect(await hit('/users/1')).toBe(200);
    expect(await hit('/users/2')).toBe(200);
    expect(await hit('/api/orgs')).toBe(200);
    expect(await hit('/api/orgs/acme/repos/web')).toBe(200);
    expect(await hit('/api/orgs/globex/repos/api')).toBe(200);
    expect(await hit('/api/orgs/acme/repos')).toBe(200);
    expect(await hit('/api/orgs/acme/repos/')).toBe(200);
    expect(await hit('/admin/stats')).toBe(401);
    const s = await metricsNow();
    expect(s.count(DURATION, get('/early', 200))).toBe(1);
    expect(s.count(DURATION, get('/static', 200))).toBe(1);
    expect(s.count(DURATION, get('/users/:id', 200))).toBe(2);
    expect(s.count(DURATION, get('/api/orgs', 200))).toBe(1);
    expect(s.count(DURATION, get('/api/orgs/:org/repos/:repo', 200))).toBe(2);
    // the prefix route answers with and without the trailing slash: one template
    expect(s.count(DURATION, get('/api/orgs/:org/repos', 200))).toBe(2);
    expect(s.count(DURATION, get('/admin/stats', 401))).toBe(1);
    for (const m of s.samples(DURATION)) {
      expect(m.labels?.http_route ?? '').not.toMatch(/acme|globex|\/users\/\d/);
    }
  });

  it('gives not-found requests (default and encapsulated handlers) no http.route, unknown methods _OTHER', async () => {
    expect(await hit('/nope/1')).toBe(404);
    expect(await hit('/api/nothing')).toBe(404);
    expect(await hit('/static', { method: 'PURGE' })).toBe(404);
    const s = await metricsNow();
    expect(s.count(DURATION, get(undefined, 404))).toBe(2);
    expect(s.count(DURATION, labels('_OTHER', undefined, 404))).toBe(1);
    expect(
      s.samples(DURATION, { http_response_status_code: '404' }).every((m) => !m.labels?.http_route),
    ).toBe(true);
  });
});

describe('fastify: errors and status codes', () => {
  it('sets error.type to the class of errors thrown in handlers and hooks, and to the status of 5xx replies', async () => {
    expect(await hit('/boom')).toBe(500);
    expect(await hit('/boom')).toBe(500);
    expect(await hit('/hook-boom')).toBe(500);
    expect(await hit('/unavailable')).toBe(503);
    expect(await hit('/bad-request')).toBe(400);
    const s = await metricsNow();
    expect(s.count(DURATION, get('/boom', 500, { error_type: 'DatabaseError' }))).toBe(2);
    expect(s.count(DURATION, get('/hook-boom', 500, { error_type: 'HookError' }))).toBe(1);
    expect(s.count(DURATION, get('/unavailable', 503, { error_type: '503' }))).toBe(1);
    // a 4xx is not a server error, even when thrown
    expect(s.count(DURATION, get('/bad-request', 400))).toBe(1);
    expect(s.samples(DURATION, { http_route: '/bad-request' })).toHaveLength(1);
  });
});

describe('fastify: hooks only', () => {
  it('measures without a request listener of its own on the server (only Express needs requests reserved early)', async () => {
    const before = (await metricsNow()).count(DURATION, get('/plain', 200));
    expect(await hit('/plain')).toBe(200);
    expect(app.server.listenerCount('request')).toBe(1);
    expect(
      await eventually(async () => (await metricsNow()).count(DURATION, get('/plain', 200)) === before + 1),
    ).toBe(true);
  });
});

describe('fastify: what is not measured', () => {
  it('skips routes with config.metrics === false and the metrics endpoint itself', async () => {
    expect(await hit('/health')).toBe(200);
    expect(await hit('/health')).toBe(200);
    await metricsNow();
    await metricsNow();
    const s = await metricsNow();
    expect(s.samples(DURATION, { http_route: '/health' })).toHaveLength(0);
    expect(s.samples(DURATION, { http_route: '/metrics' })).toHaveLength(0);
    // nor counted without a route
    expect(s.count(DURATION, get(undefined, 200))).toBe(0);
    expect(s.samples(DURATION, { http_response_status_code: '200' }).every((m) => m.labels?.http_route)).toBe(
      true,
    );
  });

  it('serves a scrape promtool accepts', async () => {
    const r = await scrape(url + '/metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const check = promtoolCheck(r.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('fastify: in flight, aborts and bodies', () => {
  it('counts a request in flight while it runs and back to 0 after', async () => {
    const active = { http_request_method: 'GET', url_scheme: 'http' };
    const pending = fetch(url + '/held').then((r) => r.text());
    expect(await eventually(() => releaseSlow !== undefined)).toBe(true);
    const during = await metricsNow();
    expect(during.value(ACTIVE, active)).toBe(1); // /held (the scrape itself is not measured)
    (releaseSlow as () => void)();
    expect(await pending).toBe('released');
    const after = await metricsNow();
    expect(after.value(ACTIVE, active)).toBe(0);
    expect(after.count(DURATION, get('/held', 200))).toBe(1);
  });

  it('counts a client that goes away mid-request once, as aborted, and in flight returns to 0', async () => {
    await abortMidRequest(port, '/upload', 1000, 10);
    await abortBeforeResponse(port, '/slow', 50);
    const post = { http_request_method: 'POST', http_route: '/upload', ...base };
    const aborted = await eventually(async () => {
      const s = await metricsNow();
      return s.samples(DURATION, { error_type: 'aborted' }).length === 2;
    });
    expect(aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 400)); // the slow handler finishes after its client left
    const s = await metricsNow();
    const abortedPost = s.samples(DURATION, { ...post, error_type: 'aborted' });
    expect(abortedPost).toHaveLength(1);
    expect(Number(abortedPost[0].value)).toBe(1);
    const abortedSlow = s.samples(DURATION, { http_route: '/slow', error_type: 'aborted' });
    expect(abortedSlow).toHaveLength(1);
    expect(Number(abortedSlow[0].value)).toBe(1);
    // counted exactly once each: no other series for these routes
    expect(s.samples(DURATION, { http_route: '/slow' })).toHaveLength(1);
    expect(s.samples(DURATION, { http_route: '/upload' })).toHaveLength(1);
    expect(s.value(ACTIVE, { http_request_method: 'POST', url_scheme: 'http' })).toBe(0);
  });

  it('counts request and response body bytes of POSTs exactly', async () => {
    const post = labels('POST', '/users/:id', 201);
    const bodies = [100, 2500, 7];
    for (const n of bodies) {
      const status = await hit('/users/3', {
        method: 'POST',
        body: Buffer.alloc(n, 1),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(status).toBe(201);
    }
    const s = await metricsNow();
    expect(s.count(REQ_SIZE, post)).toBe(3);
    expect(s.sum(REQ_SIZE, post)).toBe(2607);
    expect(s.bucket(REQ_SIZE, post, '64')).toBe(1);
    expect(s.bucket(REQ_SIZE, post, '256')).toBe(2);
    expect(s.bucket(REQ_SIZE, post, '4096')).toBe(3);
    const expectedResponse = bodies.map((n) => JSON.stringify({ got: n }).length).reduce((a, b) => a + b, 0);
    expect(s.sum(RES_SIZE, post)).toBe(expectedResponse);
    expect(s.sum(RES_SIZE, get('/static', 200))).toBe(JSON.stringify({ ok: true }).length);
  });
});
