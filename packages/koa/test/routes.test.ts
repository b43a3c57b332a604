/**
 * What only @koa/router apps have: two routes matching one path, RegExp routes, the prefix root, router.use()
 * middleware layers around a route, several routers on one app, allowedMethods(). What every framework has is in
 * the conformance table (packages/test-kit).
 */
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '../src/index.js';
import { DURATION, get, listen, scrape, series, settled, type Running } from './helpers.js';

let running: Running;

beforeAll(async () => {
  const app = new Koa();
  app.use(metrics());

  // two routes that both match /users/me
  const plain = new Router();
  plain.get('/users/me', (ctx) => {
    ctx.body = 'me';
  });
  plain.get('/users/:id', (ctx) => {
    ctx.body = { user: ctx.params.id };
  });
  plain.get('/both/:x', async (ctx, next) => {
    if (ctx.params.x === 'pass') return next();
    ctx.body = 'first';
  });
  plain.get('/both/pass', (ctx) => {
    ctx.body = 'second';
  });
  plain.get(/^\/files\/.+$/, (ctx) => {
    ctx.body = 'file';
  });
  app.use(plain.routes());

  // prefixes: a prefixed router, its root route, and nested routers with middleware layers mounted at paths with
  // params
  const v1 = new Router({ prefix: '/v1' });
  v1.get('/', (ctx) => {
    ctx.body = 'v1 root';
  });
  const repos = new Router();
  repos.use(async (_ctx, next) => {
    await next();
  });
  repos.get('/', (ctx) => {
    ctx.body = ['a', 'b'];
  });
  repos.get('/:repo', (ctx) => {
    ctx.body = { org: ctx.params.org, repo: ctx.params.repo };
  });
  const issues = new Router();
  issues.get('/:issue', (ctx) => {
    ctx.body = ctx.params;
  });
  repos.use('/:repo/issues', issues.routes());
  v1.use('/orgs/:org/repos', repos.routes());
  app.use(v1.routes());

  // the _matchedRoute pitfall: router.use() middleware layers that run after, or instead of, the route
  const tricky = new Router({ prefix: '/tricky' });
  tricky.use(async (_ctx, next) => {
    await next();
  });
  tricky.get('/after/:id', async (ctx, next) => {
    ctx.body = 'route, then a middleware layer';
    await next();
  });
  tricky.use(async (ctx, next) => {
    ctx.set('x-after', 'ran');
    await next();
  });
  tricky.use('/guarded', async (ctx, next) => {
    if (ctx.get('authorization') === '') {
      ctx.status = 401;
      return;
    }
    await next();
  });
  tricky.get('/guarded/:id', (ctx) => {
    ctx.body = 'allowed';
  });
  app.use(tricky.routes());
  app.use(tricky.allowedMethods());

  // a second router on the app whose paths overlap the first one's
  const other = new Router();
  other.get('/users/:id/posts', (ctx) => {
    ctx.body = 'posts';
  });
  app.use(other.routes());

  running = await listen(app);
});

afterAll(async () => {
  await running.close();
});

/** Send the requests and return how many each series gained. */
async function delta(requests: Array<[string, RequestInit?]>, want: Array<Record<string, string>>): Promise<number[]> {
  const before = await scrape(running);
  for (const [path, init] of requests) await get(running, path, init);
  const after = await settled(running, before.totalCount(DURATION) + requests.length);
  return want.map((labels) => after.count(DURATION, labels) - before.count(DURATION, labels));
}

describe('route templates', () => {
  it('uses the route that responded when two routes match the path', async () => {
    const got = await delta(
      [['/users/me'], ['/users/7'], ['/both/x'], ['/both/pass']],
      [
        series('GET', '/users/me', 200),
        series('GET', '/users/:id', 200),
        series('GET', '/both/:x', 200),
        series('GET', '/both/pass', 200),
      ],
    );
    expect(got).toEqual([1, 1, 1, 1]);
  });

  it('records a RegExp route as its source text', async () => {
    const got = await delta([['/files/a/b.txt'], ['/files/c']], [series('GET', '/^\\/files\\/.+$/', 200)]);
    expect(got).toEqual([2]);
  });

  it('records the root route of a prefixed router as the prefix', async () => {
    const got = await delta([['/v1']], [series('GET', '/v1', 200)]);
    expect(got).toEqual([1]);
  });

  it('includes nested routers mounted at paths with params, two levels deep', async () => {
    const got = await delta(
      [['/v1/orgs/acme/repos'], ['/v1/orgs/acme/repos/api'], ['/v1/orgs/zeta/repos/web'], ['/v1/orgs/acme/repos/api/issues/42']],
      [
        series('GET', '/v1/orgs/:org/repos', 200),
        series('GET', '/v1/orgs/:org/repos/:repo', 200),
        series('GET', '/v1/orgs/:org/repos/:repo/issues/:issue', 200),
      ],
    );
    expect(got).toEqual([1, 2, 1]);
    const res = await get(running, '/v1/orgs/acme/repos/api/issues/42');
    expect(JSON.parse(res.body)).toMatchObject({ org: 'acme', repo: 'api', issue: '42' });
  });

  it('keeps the route template when a router.use() middleware layer ran after the route', async () => {
    const res = await fetch(`${running.url}/tricky/after/1`);
    expect(res.headers.get('x-after')).toBe('ran');
    await res.text();
    const got = await delta([['/tricky/after/2']], [series('GET', '/tricky/after/:id', 200)]);
    expect(got).toEqual([1]);
    const s = await scrape(running);
    const routes = s.labelSets(DURATION, { http_request_method: 'GET' }).map((l) => l.http_route);
    expect(routes.filter((r) => r !== undefined && r.startsWith('/tricky') && !r.startsWith('/tricky/after/:id') && !r.startsWith('/tricky/guarded/:id'))).toEqual([]);
  });

  it('reports the route a middleware answered for instead of the middleware path', async () => {
    const got = await delta(
      [['/tricky/guarded/1'], ['/tricky/guarded/2', { headers: { authorization: 'Bearer x' } }]],
      [series('GET', '/tricky/guarded/:id', 401), series('GET', '/tricky/guarded/:id', 200)],
    );
    expect(got).toEqual([1, 1]);
  });

  it('finds the route of a second router whose paths overlap the first', async () => {
    const got = await delta([['/users/3/posts']], [series('GET', '/users/:id/posts', 200)]);
    expect(got).toEqual([1]);
  });

  it("records allowedMethods()' 405 for a path a router matched with another method without http.route", async () => {
    const got = await delta(
      [
        ['/users/me', { method: 'DELETE' }],
        ['/tricky/after/1', { method: 'PUT' }],
      ],
      [series('DELETE', undefined, 405), series('PUT', undefined, 405)],
    );
    expect(got).toEqual([1, 1]);
  });
});
