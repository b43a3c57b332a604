/**
 * What only @koa/router apps have: two routes matching one path, RegExp routes, the prefix root, router.use()
 * middleware layers around a route, several routers on one app, allowedMethods(). What every framework has is in
 * the conformance table (packages/test-kit).
 */
import Koa from 'koa';
import Router from '@koa/router';
import { describe, expect, it } from 'vitest';
import { metrics } from '../src/index.js';
import { seriesOf } from '@meterline/testing';
import { DURATION, get, scrape, served, series, settled } from './helpers.js';

const running = served(() => {
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
  return app;
});

/** Send the requests and return how many each series gained. */
async function delta(requests: Array<[string, RequestInit?]>, want: Array<Record<string, string>>): Promise<number[]> {
  const before = await scrape(running);
  for (const [path, init] of requests) await get(running, path, init);
  const after = await settled(running, before.totalCount(DURATION) + requests.length);
  return want.map((labels) => after.count(DURATION, labels) - before.count(DURATION, labels));
}

/** Requests sent in order, and how much each series must gain: `METHOD route status` (route `-`: none). */
const CASES: Array<{ name: string; send: Array<[string, RequestInit?]>; gains: Record<string, number> }> = [
  {
    name: 'uses the route that responded when two routes match the path',
    send: [['/users/me'], ['/users/7'], ['/both/x'], ['/both/pass']],
    gains: { 'GET /users/me 200': 1, 'GET /users/:id 200': 1, 'GET /both/:x 200': 1, 'GET /both/pass 200': 1 },
  },
  {
    name: 'records a RegExp route as its source text',
    send: [['/files/a/b.txt'], ['/files/c']],
    gains: { [`GET ${String(/^\/files\/.+$/)} 200`]: 2 },
  },
  { name: 'records the root route of a prefixed router as the prefix', send: [['/v1']], gains: { 'GET /v1 200': 1 } },
  {
    name: 'includes nested routers with middleware layers mounted at paths with params, three levels deep',
    send: [['/v1/orgs/acme/repos'], ['/v1/orgs/acme/repos/api'], ['/v1/orgs/zeta/repos/web'], ['/v1/orgs/acme/repos/api/issues/42']],
    gains: { 'GET /v1/orgs/:org/repos 200': 1, 'GET /v1/orgs/:org/repos/:repo 200': 2, 'GET /v1/orgs/:org/repos/:repo/issues/:issue 200': 1 },
  },
  {
    name: 'reports the route a middleware answered for instead of the middleware path',
    send: [['/tricky/guarded/1'], ['/tricky/guarded/2', { headers: { authorization: 'Bearer x' } }]],
    gains: { 'GET /tricky/guarded/:id 401': 1, 'GET /tricky/guarded/:id 200': 1 },
  },
  { name: 'finds the route of a second router whose paths overlap the first', send: [['/users/3/posts']], gains: { 'GET /users/:id/posts 200': 1 } },
  {
    // allowedMethods() answers 405 for a path any router matched with another method
    name: "records allowedMethods()' 405 without http.route",
    send: [['/users/me', { method: 'DELETE' }], ['/tricky/after/1', { method: 'PUT' }]],
    gains: { 'DELETE - 405': 1, 'PUT - 405': 1 },
  },
];

describe('route templates', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const got = await delta(c.send, Object.keys(c.gains).map((k) => seriesOf(k)));
      expect(got).toEqual(Object.values(c.gains));
    });
  }

  it('hands params of every level to the innermost route', async () => {
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
    const known = ['/tricky/after/:id', '/tricky/guarded/:id'];
    expect(routes.filter((r) => r !== undefined && r.startsWith('/tricky') && !known.includes(r))).toEqual([]);
  });
});
