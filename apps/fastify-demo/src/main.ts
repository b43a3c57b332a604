import { buildApp } from './app.js';

const port = Number(process.env.PORT ?? 3002);
const host = process.env.HOST ?? '127.0.0.1';
const app = await buildApp();
await app.listen({ port, host });
console.log(
  `fastify-demo listening on http://${host}:${port} (metrics: http://${host}:${port}/metrics, live page: http://${host}:${port}/metrics/ui)`,
);

const stop = (): void => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
