// A node:cluster service: WORKERS processes serve one port; the primary's one call to clusterMetrics() makes every
// scrape of /metrics on that port answer the sum over all workers. A worker that dies is replaced.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createServer } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { clusterMetrics, getMeterline, setRoute, withMetrics } from '@meterline/core';

const port = Number(process.env.PORT ?? 3004);
const host = process.env.HOST ?? '127.0.0.1';
const workers = Number(process.env.WORKERS ?? Math.min(4, availableParallelism()));

if (cluster.isPrimary) {
  clusterMetrics();
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.log(
      `worker ${worker.id} (pid ${worker.process.pid}) exited (${signal ?? code}); starting another`,
    );
    cluster.fork();
  });
  cluster.once('listening', () =>
    console.log(
      `cluster-demo: ${workers} workers on http://${host}:${port} (metrics: http://${host}:${port}/metrics)`,
    ),
  );
  const stop = (): void => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    setTimeout(() => process.exit(0), 2000).unref();
    cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  getMeterline(); // the runtime first: it registers the MeterProvider that the app's own instruments record into
  const checkouts = metrics
    .getMeter('cluster-demo')
    .createCounter('shop.checkouts', { description: 'Checkouts completed.' });
  const server = createServer(
    withMetrics((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/health') {
        setRoute(req, '/health');
        res.end('ok\n');
      } else if (/^\/api\/items\/[^/]+$/.test(path)) {
        setRoute(req, '/api/items/:id');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: path.slice(11), worker: cluster.worker?.id }));
      } else if (path === '/api/checkout' && req.method === 'POST') {
        setRoute(req, '/api/checkout');
        checkouts.add(1);
        res.statusCode = 201;
        res.end('{}');
      } else {
        res.statusCode = 404;
        res.end('not found\n');
      }
    }),
  );
  server.listen(port, host);
}
