import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics as expressMetrics } from '@meterline/express';
import { metrics as fastifyMetrics } from '@meterline/fastify';
import { metrics as koaMetrics } from '@meterline/koa';
import { listenRunning, type RunningApp } from './scenarios.js';

// The `page` option through each adapter, unchanged: core's isMetricsRequest()/serveMetrics() (and, for Fastify,
// the adapter's routes at servedPaths) serve the page and its data behind the metrics auth.
const OPTIONS = { page: '/metrics/ui', auth: { basic: { username: 'ops', password: 'pw' } } };
const AUTH = { authorization: 'Basic ' + Buffer.from('ops:pw').toString('base64') };

const apps: Record<string, () => Promise<RunningApp>> = {
  async express() {
    const app = express();
    app.use(expressMetrics(OPTIONS));
    const api = express.Router();
    api.get('/express/:id', (_req, res) => {
      res.send('ok');
    });
    app.use('/api', api);
    return listenRunning((port, host, cb) => app.listen(port, host, cb));
  },
  async fastify() {
    const app = Fastify();
    await app.register(fastifyMetrics, OPTIONS);
    app.get('/api/fastify/:id', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, server: app.server, close: () => app.close() };
  },
  async koa() {
    const app = new Koa();
    app.use(koaMetrics(OPTIONS));
    const router = new Router();
    router.get('/api/koa/:id', (ctx) => {
      ctx.body = 'ok';
    });
    app.use(router.routes());
    return listenRunning((port, host, cb) => app.listen(port, host, cb));
  },
};

const running: Record<string, RunningApp> = {};
beforeAll(async () => {
  for (const [name, start] of Object.entries(apps)) running[name] = await start();
});
afterAll(async () => {
  for (const app of Object.values(running)) await app.close();
});

describe('the live page through every adapter', () => {
  it('serves the page and its data behind auth, unmeasured, with the adapter route after two samples', async () => {
    const base = (name: string) => `http://127.0.0.1:${running[name].port}`;
    await Promise.all(
      Object.keys(apps).map(async (name) => {
        for (const path of ['/metrics/ui', '/metrics/ui/data']) {
          expect((await fetch(base(name) + path)).status, `${name} ${path}`).toBe(401);
        }
        const page = await fetch(base(name) + '/metrics/ui', { headers: AUTH });
        expect(page.status, name).toBe(200);
        expect(await page.text()).toContain('RED per route');
        // three intervals of 5 s: requests during the second and third
        for (let i = 0; i < 2; i++) {
          await new Promise((r) => setTimeout(r, 5200));
          for (let k = 0; k < 10; k++) await (await fetch(`${base(name)}/api/${name}/${k}`)).text();
        }
        await new Promise((r) => setTimeout(r, 5200));
        const data = (await (await fetch(base(name) + '/metrics/ui/data', { headers: AUTH })).json()) as {
          routes: Array<{ route: string; summary: { requests: number } }>;
        };
        const route = data.routes.find((r) => r.route === `/api/${name}/:id`);
        expect(route?.summary.requests, name).toBe(20);
        expect(data.routes.map((r) => r.route).join(' '), name).not.toMatch(/metrics/);
        const text = await (await fetch(base(name) + '/metrics', { headers: AUTH })).text();
        expect(text, name).not.toMatch(/http_route="[^"]*metrics/);
      }),
    );
  }, 40_000);
});
