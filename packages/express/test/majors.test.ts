/**
 * What only Express has, the same expected series on Express 4 and 5: mount paths, sub-apps, array and RegExp
 * paths, routers mounted before metrics(), errors passed to next(), early reservation. What every framework has
 * is in the conformance table (packages/test-kit). This file runs here against the workspace's Express 5, and
 * `npm run test:express4` runs it in a clean project against Express 4 (scripts/express4.mjs).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setErrorHook } from '@meterline/core';
import { eventually, listening, metricsAt, series, seriesOf, statusOf, type RunningServer } from '@meterline/testing';
import { metrics } from '../src/index.js';

const major = Number(
  (createRequire(import.meta.url)('express/package.json') as { version: string }).version[0],
);
const DURATION = 'http_server_request_duration_seconds';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
class DatabaseError extends Error {}
/** A handler that answers `text`. */
const reply = (text: string) => (_req: Request, res: Response) => {
  res.send(text);
};

/** What core reported through its error hook (a mount path it could not read back). */
const reports: string[] = [];
const running = {} as RunningServer;

beforeAll(async () => {
  setErrorHook((_err, where) => reports.push(where));
  const app = express();
  // registered before metrics() is first called: a route (measured alike) and mounted routers
  app.get('/early', reply('early'));
  const legacyOrgs = express.Router({ mergeParams: true });
  legacyOrgs.get('/repos/:repo', reply('legacy repo'));
  const legacy = express.Router();
  legacy.get('/thing/:id', reply('legacy'));
  legacy.use('/orgs/:org', legacyOrgs);
  app.use('/legacy', legacy);
  if (major === 4) {
    // a custom param pattern: Express 4's compiled RegExp does not tell it
    const old = express.Router();
    old.get('/', reply('old'));
    app.use('/old/:id(\\d+)', old);
  }

  app.use(metrics());
  app.get('/reserved', reply('ok'));

  const repos = express.Router({ mergeParams: true });
  repos.get('/:repo', (req, res) => {
    res.json(req.params);
  });
  const orgs = express.Router({ mergeParams: true });
  orgs.get('/', reply('org'));
  orgs.use('/repos', repos);
  const v1 = express.Router();
  v1.use('/orgs/:org', orgs);
  v1.get(['/alpha', '/beta/:id'], reply('ab'));
  // a router the request passes through without matching, before the one that answers
  const other = express.Router();
  other.get('/never', reply('never'));
  app.use('/api/v1', other);
  app.use('/api/v1', v1);
  const shared = express.Router();
  shared.get('/x/:id', reply('x'));
  app.use(['/left', '/right/:side'], shared);

  const sub = express();
  sub.get('/items/:id', reply('sub'));
  app.use('/sub', sub);
  app.all('/any/:id', reply('any'));
  app
    .route('/users/:id')
    .get(reply('user'))
    .post((_req, res) => {
      res.status(201).send('created');
    });
  app.get(/^\/files\/(\d+)$/, reply('file'));
  app.get(['/docs/:page', /^\/d\/\d+$/], reply('doc'));
  if (major === 4) {
    app.get('/wild/*', reply('wild'));
    const spa = express.Router();
    spa.get('*', reply('spa'));
    app.use('/spa', spa);
  }
  app.get('/boom-next', (_req, _res, next) => {
    next(new DatabaseError('down'));
  });
  app.get('/boom-async', async (_req, _res, next) => {
    await wait(1);
    next(new DatabaseError('later'));
  });
  app.use((err: Error, req: Request, res: Response, next: NextFunction) => {
    if (req.path === '/boom-next') return next(err); // left to Express's final handler
    res.status(500).send('error: ' + err.message);
  });
  Object.assign(running, await listening(app.listen(0, '127.0.0.1')));
});

afterAll(async () => {
  setErrorHook(undefined);
  await running.close();
});

const hit = (path: string, init?: RequestInit) => statusOf(running.url + path, init);
const metricsNow = () => metricsAt(running.url + '/metrics');

/**
 * Requests (`METHOD path [status]`, 200 by default) sent in order, how much each series must gain
 * (`METHOD route status`, route `-`: none), what core must have reported by then, and routes no series may have.
 */
const CASES: Array<{ name: string; only4?: true; send: string[]; gains: Record<string, number>; reports?: string[]; never?: RegExp }> = [
  {
    name: 'nested routers, params in mount paths, sub-apps, route chains, all(), early routes',
    send: ['GET /early', 'GET /api/v1/orgs/acme/repos/web', 'GET /api/v1/orgs/globex/repos/api', 'GET /api/v1/orgs/acme'],
    gains: { 'GET /early 200': 1, 'GET /api/v1/orgs/:org/repos/:repo 200': 2, 'GET /api/v1/orgs/:org 200': 1 },
    // nothing on the way was taken for a mount of unknown path
    reports: [],
    never: /acme|globex/,
  },
  {
    name: 'route chains, all() and sub-apps',
    send: ['GET /users/1', 'GET /users/2', 'POST /users/3 201', 'PUT /any/1', 'GET /sub/items/7'],
    gains: { 'GET /users/:id 200': 2, 'POST /users/:id 201': 1, 'PUT /any/:id 200': 1, 'GET /sub/items/:id 200': 1 },
    // a route's own layers, all() included, are no mounts
    reports: [],
  },
  {
    name: 'array paths (the entry that matched, in routes and mounts) and RegExp paths',
    send: ['GET /api/v1/alpha', 'GET /api/v1/beta/1', 'GET /api/v1/beta/2', 'GET /files/42', 'GET /docs/intro', 'GET /d/7'],
    gains: {
      'GET /api/v1/alpha 200': 1,
      'GET /api/v1/beta/:id 200': 2,
      [`GET ${String(/^\/files\/(\d+)$/)} 200`]: 1,
      'GET /docs/:page 200': 1,
      [`GET ${String(/^\/d\/\d+$/)} 200`]: 1,
    },
  },
  {
    name: 'array mount paths',
    send: ['GET /left/x/1', 'GET /right/r/x/2', 'GET /right/l/x/3'],
    gains: { 'GET /left/x/:id 200': 1, 'GET /right/:side/x/:id 200': 2 },
    never: /\/\d/,
  },
  {
    name: '`*` routes keep their path, under a mount too',
    only4: true,
    send: ['GET /wild/a/b', 'GET /spa/some/page', 'GET /spa'],
    gains: { 'GET /wild/* 200': 1, 'GET /spa/* 200': 2 },
  },
  {
    name: 'routers mounted before metrics() was first called',
    send: ['GET /legacy/thing/1', 'GET /legacy/orgs/acme/repos/web'],
    gains: { 'GET /legacy/thing/:id 200': 1, 'GET /legacy/orgs/:org/repos/:repo 200': 1 },
    reports: [],
  },
  {
    // no template rather than a wrong one, reported once
    name: 'a router mounted before metrics() at a path its RegExp does not tell',
    only4: true,
    send: ['GET /old/42'],
    gains: { 'GET - 200': 1 },
    reports: ['express 4 mount path'],
  },
  {
    name: 'a path that went through mounted routers without a match has no http.route',
    send: ['GET /api/v1/nothing 404', 'GET /sub/nothing 404'],
    gains: { 'GET - 404': 2 },
    never: /nothing|^\/api\/v1$|^\/sub$/,
  },
];

describe(`express ${major}: route templates`, () => {
  for (const c of CASES) {
    it.runIf(c.only4 === undefined || major === 4)(c.name, async () => {
      const before = await metricsNow();
      for (const line of c.send) {
        const [method, path, status = '200'] = line.split(' ');
        expect(await hit(path, { method }), line).toBe(Number(status));
      }
      const gained = (after: Awaited<ReturnType<typeof metricsNow>>) =>
        Object.fromEntries(Object.keys(c.gains).map((k) => [k, after.count(DURATION, seriesOf(k)) - before.count(DURATION, seriesOf(k))]));
      let after = await metricsNow();
      await eventually(async () => JSON.stringify(gained((after = await metricsNow()))) === JSON.stringify(c.gains));
      expect(gained(after)).toEqual(c.gains);
      if (c.reports !== undefined) expect(reports).toEqual(c.reports);
      if (c.never !== undefined) for (const labels of after.labelSets(DURATION)) expect(labels.http_route ?? '').not.toMatch(c.never);
    });
  }
});

describe(`express ${major}: errors passed to next()`, () => {
  it('error.type is the class of an error passed to next(), handled by the app or by Express', async () => {
    expect(await hit('/boom-next')).toBe(500);
    expect(await hit('/boom-async')).toBe(500);
    expect(await hit('/boom-async')).toBe(500);
    const s = await metricsNow();
    // left to Express's final handler
    expect(s.count(DURATION, series('GET', '/boom-next', 500, { error_type: 'DatabaseError' }))).toBe(1);
    // answered by the app's error handler, after an await
    expect(s.count(DURATION, series('GET', '/boom-async', 500, { error_type: 'DatabaseError' }))).toBe(2);
  });
});

describe(`express ${major}: early reservation`, () => {
  it('reserves each request first in line (one extra request listener) and counts the reserved ones', async () => {
    const before = (await metricsNow()).count(DURATION, series('GET', '/reserved', 200));
    for (let i = 0; i < 3; i++) expect(await hit('/reserved')).toBe(200);
    // Express swaps the prototypes of req/res: their state is reserved by a listener ahead of Express's own
    expect(running.server.listenerCount('request')).toBe(2);
    expect(
      await eventually(
        async () => (await metricsNow()).count(DURATION, series('GET', '/reserved', 200)) === before + 3,
      ),
    ).toBe(true);
  });
});
