import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { metrics } from '@meterline/fastify';
import { CHUNKS, COMPRESSED, ConformanceError, FIXED_BODY, type ConformanceApp } from '../scenarios.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const fastifyApp: ConformanceApp = {
  name: 'fastify',
  // Fastify has no automatic OPTIONS answer and no route for unknown methods: both are 404s without a route;
  // the metrics path has GET and HEAD routes only, so a POST there is Fastify's 404 too
  differences: { optionsStatus: 404, optionsRoute: undefined, unknownMethodStatus: 404, metricsPostStatus: 404 },
  async start() {
    const app = Fastify();
    await app.register(metrics, { exclude: ['/health'] });
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.get('/static', async () => 'static');
    app.get('/items/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    await app.register(
      async (v1) => {
        await v1.register(
          async (orgs) => {
            orgs.get('/', async () => 'org');
            orgs.get('/repos/:repo', async () => 'repo');
          },
          { prefix: '/orgs/:org' },
        );
      },
      { prefix: '/api/v1' },
    );
    app.get('/status/:code', async (req, reply) => {
      reply.code(Number((req.params as { code: string }).code));
      return 'status';
    });
    app.get('/throw-sync', () => {
      throw new TypeError('sync');
    });
    app.get('/throw-async', async () => {
      await wait(1);
      throw new ConformanceError('async');
    });
    app.get('/slow', async () => {
      await wait(300);
      return 'slow';
    });
    app.get('/stream-slow', (_req, reply) => {
      const body = new PassThrough();
      body.write('first');
      setTimeout(() => body.end('rest'), 300);
      reply.type('text/plain').send(body);
    });
    app.post('/echo', async (req, reply) => {
      reply.type('application/octet-stream');
      return req.body as Buffer;
    });
    app.get('/fixed', async () => FIXED_BODY);
    app.get('/chunked', (_req, reply) => {
      reply.type('text/plain').send(Readable.from(CHUNKS));
    });
    app.get('/compressed', (_req, reply) => {
      reply.header('content-encoding', 'gzip').type('text/plain').send(COMPRESSED);
    });
    app.get('/health', async () => 'ok');
    app.setErrorHandler((err: Error, _req, reply) => {
      reply.code(500).send('error: ' + err.message);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { server: app.server, port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
};
