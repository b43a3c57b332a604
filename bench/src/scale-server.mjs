// One scale-benchmark server: `node --expose-gc scale-server.mjs <framework> <variant> <routes>` (scale-apps.mjs),
// driven over IPC (ipc.mjs), plus 'heap': answers with heapUsed after forced garbage collection and the open connections.
import { serveBenchmarkIpc } from './ipc.mjs';
import { startScaleApp } from './scale-apps.mjs';

const [framework, variant, routes] = process.argv.slice(2);
const server = await startScaleApp(framework, variant, Number(routes));
process.on('message', (message) => {
  if (message !== 'heap') return;
  // several passes: objects freed by one pass's finalisers are collected by the next
  for (let i = 0; i < 3; i++) globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  server.getConnections((err, connections) => {
    process.send({ type: 'heap', heapUsed, rss, connections: err ? -1 : connections });
  });
});
serveBenchmarkIpc(server);
