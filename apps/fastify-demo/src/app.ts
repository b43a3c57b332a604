import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { metrics, type FastifyMetricsOptions } from '@meterline/fastify';
import { findUser, listRepos, listUsers, pause, searchUsers, shouldFail } from './data.js';

const users: FastifyPluginAsync = async (app) => {
  app.get('/', async () => listUsers());
  app.get<{ Params: { id: string } }>('/:id', async (request, reply) => {
    const user = findUser(request.params.id);
    if (user === undefined) return reply.code(404).send({ error: 'no such user' });
    return user;
  });
  app.post<{ Body: Record<string, unknown> | undefined }>('/', async (request, reply) => {
    return reply.code(201).send({ id: 99, ...(request.body ?? {}) });
  });
};

const repos: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { org: string } }>('/', async (request) => listRepos(request.params.org));
  app.get<{ Params: { org: string; repo: string } }>('/:repo', async (request) => {
    const { org, repo } = request.params;
    return { org, repo, stars: repo.length * 7 };
  });
};

const api: FastifyPluginAsync = async (app) => {
  await app.register(users, { prefix: '/users' });
  await app.register(repos, { prefix: '/orgs/:org/repos' });
  app.get<{ Querystring: { q?: string } }>('/search', async (request) =>
    searchUsers(String(request.query.q ?? '')),
  );
  app.get('/slow', async () => {
    await pause();
    return { slow: true };
  });
  app.get('/flaky', async () => {
    if (shouldFail()) throw new Error('the flaky backend failed');
    return { ok: true };
  });
};

/**
 * The demo service: users, orgs with repos (a plugin registered at a prefix with a param), one slow route, one
 * route that fails part of the time. The same service exists for Express and Koa (apps/express-demo,
 * apps/koa-demo).
 */
export async function buildApp(
  options: FastifyMetricsOptions = { exclude: ['/health'], page: '/metrics/ui' },
): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(metrics, options);
  // errors become JSON answers (the status of client errors such as a bad JSON body, else 500); set before the
  // plugins so they inherit it
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    const client = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500;
    return reply.code(client ? (err.statusCode as number) : 500).send({ error: err.message });
  });

  app.get('/health', async () => 'ok');
  await app.register(api, { prefix: '/api' });

  return app;
}
