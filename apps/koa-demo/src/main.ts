import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3003);
const host = process.env.HOST ?? '127.0.0.1';
const server = createApp().listen(port, host, () => {
  console.log(
    `koa-demo listening on http://${host}:${port} (metrics: http://${host}:${port}/metrics, live page: http://${host}:${port}/metrics/ui)`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
