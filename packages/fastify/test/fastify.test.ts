/**
 * What only Fastify has: routes registered before the plugin, encapsulated plugins (prefixes, their own hooks and
 * not-found handlers), errors thrown in hooks or carrying a statusCode, the `config.metrics` opt-out, hooks
 * without a server listener. What every framework has is in the conformance table (packages/test-kit).
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, metricsAt, series, statusOf } from '@meterline/testing';
import { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';

class HookError extends Error {}

let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify();
  // registered before the plugin: measured all the same
  app.get('/early', async () => 'early');
  await app.register(metrics);

  app.get('/plain', async () => 'plain');
  app.get('/bad-request', async () => {
    throw Object.assign(new RangeError('bad input'), { statusCode: 400 });
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
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  app.server.closeAllConnections();
  await app.close();
});

const hit = (path: string) => statusOf(url + path);
const metricsNow = () => metricsAt(url + '/metrics');

describe('fastify: routes of plugins', () => {
  it('records early routes, plugin prefixes, nested encapsulated plugins and hooks that answer', async () => {
    expect(await hit('/early')).toBe(200);
    expect(await hit('/api/orgs')).toBe(200);
    expect(await hit('/api/orgs/acme/repos/web')).toBe(200);
    expect(await hit('/api/orgs/globex/repos/api')).toBe(200);
    expect(await hit('/api/orgs/acme/repos')).toBe(200);
    expect(await hit('/api/orgs/acme/repos/')).toBe(200);
    expect(await hit('/admin/stats')).toBe(401);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', '/early', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/api/orgs', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/api/orgs/:org/repos/:repo', 200))).toBe(2);
    // the prefix route answers with and without the trailing slash: one template
    expect(s.count(DURATION, series('GET', '/api/orgs/:org/repos', 200))).toBe(2);
    expect(s.count(DURATION, series('GET', '/admin/stats', 401))).toBe(1);
    for (const m of s.samples(DURATION)) expect(m.labels?.http_route ?? '').not.toMatch(/acme|globex/);
  });

  it("gives a request answered by a plugin's own not-found handler no http.route", async () => {
    const before = (await metricsNow()).count(DURATION, series('GET', undefined, 404));
    expect(await hit('/api/nothing')).toBe(404);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', undefined, 404)) - before).toBe(1);
    expect(s.samples(DURATION, { http_response_status_code: '404' }).every((m) => !m.labels?.http_route)).toBe(true);
  });
});

describe('fastify: errors', () => {
  it('sets error.type to the class of an error thrown in a hook; a thrown error with a 4xx statusCode has none', async () => {
    expect(await hit('/hook-boom')).toBe(500);
    expect(await hit('/bad-request')).toBe(400);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', '/hook-boom', 500, { error_type: 'HookError' }))).toBe(1);
    expect(s.count(DURATION, series('GET', '/bad-request', 400))).toBe(1);
    expect(s.samples(DURATION, { http_route: '/bad-request' })).toHaveLength(1);
  });
});

describe('fastify: hooks only', () => {
  it('measures without a request listener of its own on the server (only Express needs requests reserved early)', async () => {
    const before = (await metricsNow()).count(DURATION, series('GET', '/plain', 200));
    expect(await hit('/plain')).toBe(200);
    expect(app.server.listenerCount('request')).toBe(1);
    expect(
      await eventually(async () => (await metricsNow()).count(DURATION, series('GET', '/plain', 200)) === before + 1),
    ).toBe(true);
  });
});

describe('fastify: route config opt-out', () => {
  it('skips routes with config.metrics === false, with or without a route label', async () => {
    const before = (await metricsNow()).totalCount(DURATION);
    expect(await hit('/health')).toBe(200);
    expect(await hit('/health')).toBe(200);
    // a measured request after them: once it is counted, they would have been
    expect(await hit('/plain')).toBe(200);
    expect(await eventually(async () => (await metricsNow()).totalCount(DURATION) === before + 1)).toBe(true);
    const s = await metricsNow();
    expect(s.samples(DURATION, { http_route: '/health' })).toHaveLength(0);
    expect(s.totalCount(DURATION)).toBe(before + 1);
  });
});
