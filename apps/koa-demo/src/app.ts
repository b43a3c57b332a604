import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import { metrics, type KoaMetricsOptions } from '@meterline/koa';
import { findUser, listRepos, listUsers, pause, searchUsers, shouldFail } from './data.js';

const JSON_LIMIT = 100 * 1024;

/** Read a JSON request body (up to 100 kB); undefined when the request is not JSON. */
async function readJson(ctx: Context): Promise<Record<string, unknown> | undefined> {
  if (!ctx.is('application/json')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > JSON_LIMIT) ctx.throw(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  } catch {
    ctx.throw(400, 'invalid JSON body');
  }
}

/** Errors become JSON answers (500 for anything that is not an HTTP error); nothing is logged. */
async function errors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    ctx.status = clientError ? status : 500;
    ctx.body = { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The demo service: users, orgs with repos (a router mounted at a path with a param), one slow route, one route
 * that fails part of the time. The same service exists for Express and Fastify (apps/express-demo,
 * apps/fastify-demo). The error handler comes before `metrics()` so failures are recorded with their class name.
 */
export function createApp(options: KoaMetricsOptions = { exclude: ['/health'], page: '/metrics/ui' }): Koa {
  const app = new Koa();
  app.use(errors);
  app.use(metrics(options));

  const root = new Router();
  root.get('/health', (ctx) => {
    ctx.body = 'ok';
  });

  const users = new Router();
  users.get('/', (ctx) => {
    ctx.body = listUsers();
  });
  users.get('/:id', (ctx) => {
    const user = findUser(ctx.params.id);
    if (user === undefined) {
      ctx.status = 404;
      ctx.body = { error: 'no such user' };
    } else ctx.body = user;
  });
  users.post('/', async (ctx) => {
    const body = await readJson(ctx);
    ctx.status = 201;
    ctx.body = { id: 99, ...(body ?? {}) };
  });

  const repos = new Router();
  repos.get('/', (ctx) => {
    ctx.body = listRepos(ctx.params.org);
  });
  repos.get('/:repo', (ctx) => {
    const { org, repo } = ctx.params;
    ctx.body = { org, repo, stars: repo.length * 7 };
  });

  const api = new Router({ prefix: '/api' });
  api.use('/users', users.routes());
  api.use('/orgs/:org/repos', repos.routes());
  api.get('/search', (ctx) => {
    const q = ctx.query.q;
    ctx.body = searchUsers(typeof q === 'string' ? q : '');
  });
  api.get('/slow', async (ctx) => {
    await pause();
    ctx.body = { slow: true };
  });
  api.get('/flaky', async (ctx) => {
    if (shouldFail()) throw new Error('the flaky backend failed');
    ctx.body = { ok: true };
  });

  app.use(root.routes());
  app.use(api.routes());
  return app;
}
