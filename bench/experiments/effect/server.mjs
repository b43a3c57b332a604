// One Fastify app for the V8-effect experiment: `node server.mjs <load>,<setup>[,settled]`, no metrics code runs.
//   load:    none | sdk (import @opentelemetry/sdk-metrics) | typescript (import typescript)
//   setup:   root (route on the root instance) | plugin (route inside a registered plugin) | after (await app.after())
//   settled: run the benchmark's process.nextTick warm-up (settleNextTick in src/apps.mjs) before building the app
import Fastify from 'fastify';
import { settleNextTick } from '../../src/apps.mjs';
import { serveBenchmarkIpc } from '../../src/ipc.mjs';

const [load, setup, settled] = process.argv[2].split(',');
if (load === 'sdk') await import('@opentelemetry/sdk-metrics');
else if (load === 'typescript') await import('typescript');
else if (load !== 'none') throw new Error(`unknown load ${load}`);
if (settled === 'settled') await settleNextTick();
else if (settled !== undefined) throw new Error(`unknown option ${settled}`);

const app = Fastify({ logger: false });
const route = (f) =>
  f.get('/users/:id', async (request) => ({ id: request.params.id, name: 'Ada Lovelace', role: 'admin' }));
if (setup === 'root') route(app);
else if (setup === 'plugin') await app.register(async (f) => route(f));
else if (setup === 'after') {
  await app.after();
  route(app);
} else throw new Error(`unknown setup ${setup}`);
await app.listen({ port: 0, host: '127.0.0.1' });

serveBenchmarkIpc(app.server);
