import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { metrics } from '@meterline/express';
import { listenRunning, type ConformanceApp } from '../scenarios.js';
import { ConformanceModule, configureNest } from './nest-module.js';

/**
 * NestJS on its Express platform, with the one line `app.use(metrics())`: Nest 11 (Express 5) here; the same source
 * runs on Nest 10 (Express 4) in a project with `@nestjs/*@10`.
 */
export const nestExpressApp: ConformanceApp = {
  name: 'nest-express',
  // Nest's not-found handler answers OPTIONS and unknown methods (404, no route); its exception filter answers
  // thrown exceptions itself, so the adapter sees the 500, not the exception
  differences: { optionsStatus: 404, optionsRoute: undefined, unknownMethodStatus: 404, thrownErrorType: 'status' },
  async start() {
    const app = await NestFactory.create<NestExpressApplication>(ConformanceModule, { logger: false });
    app.use(metrics({ exclude: ['/health'] }));
    configureNest(app);
    app.useBodyParser('raw', { type: 'application/octet-stream', limit: '1mb' });
    await app.init();
    const running = await listenRunning((port, host, cb) => app.getHttpServer().listen(port, host, cb));
    return { ...running, close: async () => (await running.close(), await app.close()) };
  },
};
