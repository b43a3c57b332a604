import Router from '@koa/router';
import Koa from 'koa';
import { PassThrough, Readable } from 'node:stream';
import { metrics } from '@meterline/koa';
import { CHUNKS, COMPRESSED, ConformanceError, FIXED_BODY, listenRunning, type ConformanceApp } from '../scenarios.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const koaApp: ConformanceApp = {
  name: 'koa',
  // router.allowedMethods() answers OPTIONS with 200 + Allow and unknown methods with 501; no route either way
  differences: { optionsStatus: 200, optionsRoute: undefined, unknownMethodStatus: 501 },
  async start() {
    const app = new Koa();
    app.silent = true;
    // Koa idiom: the error-handling middleware wraps everything, metrics() inside it, so metrics sees what was
    // thrown (with an error handler inside metrics(), error.type would be the status code: see the README)
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 500;
        ctx.body = 'error: ' + (err as Error).message;
      }
    });
    app.use(metrics({ exclude: ['/health'] }));
    const router = new Router();
    router.get('/static', (ctx) => {
      ctx.body = 'static';
    });
    router.get('/items/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    const orgs = new Router();
    orgs.get('/', (ctx) => {
      ctx.body = 'org';
    });
    orgs.get('/repos/:repo', (ctx) => {
      ctx.body = 'repo';
    });
    const v1 = new Router({ prefix: '/api/v1' });
    v1.use('/orgs/:org', orgs.routes());
    router.get('/status/:code', (ctx) => {
      ctx.status = Number(ctx.params.code);
      ctx.body = 'status';
    });
    router.get('/throw-sync', () => {
      throw new TypeError('sync');
    });
    router.get('/throw-async', async () => {
      await wait(1);
      throw new ConformanceError('async');
    });
    router.get('/slow', async (ctx) => {
      await wait(300);
      ctx.body = 'slow';
    });
    router.get('/stream-slow', (ctx) => {
      const body = new PassThrough();
      body.write('first');
      setTimeout(() => body.end('rest'), 300);
      ctx.type = 'text/plain';
      ctx.body = body;
    });
    router.post('/echo', async (ctx) => {
      const chunks: Buffer[] = [];
      for await (const c of ctx.req) chunks.push(c as Buffer);
      ctx.type = 'application/octet-stream';
      ctx.body = Buffer.concat(chunks);
    });
    router.get('/fixed', (ctx) => {
      ctx.body = FIXED_BODY;
    });
    router.get('/chunked', (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = Readable.from(CHUNKS);
    });
    router.get('/compressed', (ctx) => {
      ctx.set('content-encoding', 'gzip');
      ctx.type = 'text/plain';
      ctx.body = COMPRESSED;
    });
    router.get('/health', (ctx) => {
      ctx.body = 'ok';
    });
    app.use(router.routes());
    app.use(router.allowedMethods());
    app.use(v1.routes());
    app.use(v1.allowedMethods());
    return listenRunning((port, host, cb) => app.listen(port, host, cb));
  },
};
