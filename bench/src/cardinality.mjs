// Cardinality and memory check: `node --expose-gc cardinality.mjs <framework> <requests>`.
// Sends requests with random paths (half to /users/<random>, half to unmatched random paths, which 404) to the
// meterline-instrumented app in this process, and reports meterline's series count and the heap after GC
// before and after. Prints one JSON line.
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { getMeterline } from '@meterline/core';
import { startApp } from './apps.mjs';

const framework = process.argv[2] ?? 'express';
const total = Number(process.argv[3] ?? 20000);
const server = await startApp(framework, 'meterline');
const { port } = server.address();
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const store = getMeterline().store;

function get(path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

function randomPath(i) {
  const token = randomBytes(6).toString('hex');
  return i % 2 === 0 ? `/users/${token}` : `/${token}/${randomBytes(4).toString('hex')}?q=${token}`;
}

const statuses = new Map();
async function send(count) {
  let next = 0;
  async function worker() {
    while (next < count) {
      const status = await get(randomPath(next++));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
}

function heapAfterGc() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

await send(2000); // warm up: every series these requests can create exists now
statuses.clear(); // the table reports the measured requests only
const seriesBefore = store.seriesCount;
const heapBefore = heapAfterGc();
await send(total);
const seriesAfter = store.seriesCount;
const heapAfter = heapAfterGc();
agent.destroy();
server.close();
process.stdout.write(
  JSON.stringify({
    framework,
    requests: total,
    statuses: Object.fromEntries(statuses),
    seriesBefore,
    seriesAfter,
    heapBefore,
    heapAfter,
    heapGrowth: heapAfter - heapBefore,
  }) + '\n',
);
process.exit(0);
