import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { metrics } from '@meterline/fastify';
import type { ConformanceApp } from '../scenarios.js';
import { ConformanceModule, configureNest } from './nest-module.js';

/** A plugin as the Nest app's own fastify types it. */
type NestPlugin = Parameters<NestFastifyApplication['register']>[0];

/**
 * NestJS on its Fastify platform, with the one line `await app.register(metrics)`: Nest 11 (Fastify 5) here; the
 * same source runs on Nest 10 (Fastify 4) in a project with `@nestjs/*@10`.
 */
export const nestFastifyApp: ConformanceApp = {
  name: 'nest-fastify',
  // Nest's not-found handler answers OPTIONS and unknown methods (404, no route); its exception filter answers
  // thrown exceptions itself, so the adapter sees the 500, not the exception; the metrics path has GET and HEAD
  // routes only (as on Fastify)
  differences: {
    optionsStatus: 404,
    optionsRoute: undefined,
    unknownMethodStatus: 404,
    thrownErrorType: 'status',
    metricsPostStatus: 404,
  },
  async start() {
    const app = await NestFactory.create<NestFastifyApplication>(ConformanceModule, new FastifyAdapter(), {
      logger: false,
    });
    // @nestjs/platform-fastify pins its own fastify; where the app's fastify is another copy, their types differ
    // (not their runtime): the cast stands for `npm install fastify@<the version Nest pins>`
    await app.register(metrics as unknown as NestPlugin, { exclude: ['/health'] });
    configureNest(app);
    app.useBodyParser('application/octet-stream', { bodyLimit: 1024 * 1024 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const server = app.getHttpServer();
    return { server, port: (server.address() as AddressInfo).port, close: () => app.close() };
  },
};
