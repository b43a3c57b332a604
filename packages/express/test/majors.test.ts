/**
 * What only Express has, the same expected series on Express 4 and 5: mount paths, sub-apps, array and RegExp
 * paths, routers mounted before metrics(), errors passed to next(), early reservation. What every framework has
 * is in the conformance table (packages/test-kit). This file runs here against the workspace's Express 5, and
 * `npm run test:express4` runs it in a clean project against Express 4 (scripts/express4.mjs).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setErrorHook } from '@meterline/core';
import { eventually, scrape, series, type Scrape } from '@meterline/testing';
import { metrics } from '../src/index.js';

const major = Number(
  (createRequire(import.meta.url)('express/package.json') as { version: string }).version[0],
);
const DURATION = 'http_server_request_duration_seconds';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
class DatabaseError extends Error {}

let server: Server;
let port: number;
let url: string;
const reports: string[] = [];

beforeAll(async () => {
  setErrorHook((_err, where) => reports.push(where));
  const app = express();
  // registered before metrics() is first called: a route (measured alike) and mounted routers
  app.get('/early', (_req, res) => {
    res.send('early');
  });
  const legacyOrgs = express.Router({ mergeParams: true });
  legacyOrgs.get('/repos/:repo', (_req, res) => {
    res.send('legacy repo');
  });
  const legacy = express.Router();
  legacy.get('/thing/:id', (_req, res) => {
    res.send('legacy');
  });
  legacy.use('/orgs/:org', legacyOrgs);
  app.use('/legacy', legacy);
  if (major === 4) {
    // a custom param pattern: Express 4's compiled RegExp does not tell it
    const old = express.Router();
    old.get('/', (_req, res) => {
      res.send('old');
    });
    app.use('/old/:id(\\d+)', old);
  }

  app.use(metrics());
  app.get('/reserved', (_req, res) => {
    res.send('ok');
  });

  const repos = express.Router({ mergeParams: true });
  repos.get('/:repo', (req, res) => {
    res.json(req.params);
  });
  const orgs = express.Router({ mergeParams: true });
  orgs.get('/', (_req, res) => {
    res.send('org');
  });
  orgs.use('/repos', repos);
  const v1 = express.Router();
  v1.use('/orgs/:org', orgs);
  v1.get(['/alpha', '/beta/:id'], (_req, res) => {
    res.send('ab');
  });
  // a router the request passes through without matching, before the one that answers
  const other = express.Router();
  other.get('/never', (_req, res) => {
    res.send('never');
  });
  app.use('/api/v1', other);
  app.use('/api/v1', v1);
  const shared = express.Router();
  shared.get('/x/:id', (_req, res) => {
    res.send('x');
  });
  app.use(['/left', '/right/:side'], shared);

  const sub = express();
  sub.get('/items/:id', (_req, res) => {
    res.send('sub');
  });
  app.use('/sub', sub);
  app.all('/any/:id', (_req, res) => {
    res.send('any');
  });
  app
    .route('/users/:id')
    .get((_req, res) => {
      res.send('user');
    })
    .post((_req, res) => {
      res.status(201).send('created');
    });
  app.get(/^\/files\/(\d+)$/, (_req, res) => {
    res.send('file');
  });
  app.get(['/docs/:page', /^\/d\/\d+$/], (_req, res) => {
    res.send('doc');
  });
  if (major === 4) {
    app.get('/wild/*', (_req, res) => {
      res.send('wild');
    });
    const spa = express.Router();
    spa.get('*', (_req, res) => {
      res.send('spa');
    });
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
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  setErrorHook(undefined);
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

describe(`express ${major}: route templates`, () => {
  it('nested routers, params in mount paths, sub-apps, route chains, all(), early routes', async () => {
    for (const p of [
      '/early',
      '/api/v1/orgs/acme/repos/web',
      '/api/v1/orgs/globex/repos/api',
      '/api/v1/orgs/acme',
    ]) {
      expect(await hit(p)).toBe(200);
    }
    expect(await hit('/users/1')).toBe(200);
    expect(await hit('/users/2')).toBe(200);
    expect(await hit('/users/3', { method: 'POST' })).toBe(201);
    expect(await hit('/any/1', { method: 'PUT' })).toBe(200);
    expect(await hit('/sub/items/7')).toBe(200);
    const s = await metricsNow();
    // nothing on the way was taken for a mount of unknown path (a route's own layers, all() included)
    expect(reports).toEqual([]);
    expect(s.count(DURATION, series('PUT', '/any/:id', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/sub/items/:id', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/early', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/api/v1/orgs/:org/repos/:repo', 200))).toBe(2);
    expect(s.count(DURATION, series('GET', '/api/v1/orgs/:org', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/users/:id', 200))).toBe(2);
    expect(s.count(DURATION, series('POST', '/users/:id', 201))).toBe(1);
  });

  it('array paths (the entry that matched, in routes and mounts) and RegExp paths', async () => {
    for (const p of [
      '/api/v1/alpha',
      '/api/v1/beta/1',
      '/api/v1/beta/2',
      '/files/42',
      '/docs/intro',
      '/d/7',
    ]) {
      expect(await hit(p)).toBe(200);
    }
    expect(await hit('/left/x/1')).toBe(200);
    expect(await hit('/right/r/x/2')).toBe(200);
    expect(await hit('/right/l/x/3')).toBe(200);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', '/api/v1/alpha', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/api/v1/beta/:id', 200))).toBe(2);
    expect(s.count(DURATION, series('GET', String(/^\/files\/(\d+)$/), 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/docs/:page', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', String(/^\/d\/\d+$/), 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/left/x/:id', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/right/:side/x/:id', 200))).toBe(2);
    for (const m of s.samples(DURATION)) expect(m.labels?.http_route ?? '').not.toMatch(/acme|globex|\/\d/);
  });

  it.runIf(major === 4)('`*` routes keep their path, under a mount too', async () => {
    expect(await hit('/wild/a/b')).toBe(200);
    expect(await hit('/spa/some/page')).toBe(200);
    expect(await hit('/spa')).toBe(200);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', '/wild/*', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/spa/*', 200))).toBe(2);
  });

  it('routers mounted before metrics() was first called', async () => {
    expect(await hit('/legacy/thing/1')).toBe(200);
    expect(await hit('/legacy/orgs/acme/repos/web')).toBe(200);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', '/legacy/thing/:id', 200))).toBe(1);
    expect(s.count(DURATION, series('GET', '/legacy/orgs/:org/repos/:repo', 200))).toBe(1);
    expect(reports).toEqual([]);
  });

  it.runIf(major === 4)('a router mounted before metrics() at a path its RegExp does not tell', async () => {
    expect(await hit('/old/42')).toBe(200);
    const s = await metricsNow();
    // no template rather than a wrong one, reported once
    expect(s.count(DURATION, series('GET', undefined, 200))).toBe(1);
    expect(reports).toEqual(['express 4 mount path']);
  });

  it('a path that went through mounted routers without a match has no http.route', async () => {
    const before = (await metricsNow()).count(DURATION, series('GET', undefined, 404));
    expect(await hit('/api/v1/nothing')).toBe(404);
    expect(await hit('/sub/nothing')).toBe(404);
    const s = await metricsNow();
    expect(s.count(DURATION, series('GET', undefined, 404)) - before).toBe(2);
    for (const m of s.samples(DURATION)) expect(m.labels?.http_route ?? '').not.toMatch(/nothing|^\/api\/v1$|^\/sub$/);
  });
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
    expect(server.listenerCount('request')).toBe(2);
    expect(
      await eventually(
        async () => (await metricsNow()).count(DURATION, series('GET', '/reserved', 200)) === before + 3,
      ),
    ).toBe(true);
  });
});
