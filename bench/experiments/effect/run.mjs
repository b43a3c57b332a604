// The Fastify V8 effect behind the `-preloaded` variants (see bench/results-archive.md): `npm run bench:effect`.
// All variants run at the same time, pinned to the same CPU (load from the other one), so that the machine's noise
// hits them alike; each round starts fresh processes and reverses the order. CPU µs per request are inflated by
// the sharing (compare the columns with each other, not with the main benchmark). No metrics code runs anywhere.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { nextMessage, spawnNode } from '../../src/processes.mjs';
import { ResultTable } from '../../src/report.mjs';
import { median } from '../../src/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, duration: { type: 'string', default: '4' } },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const VARIANTS = [
  'none,root',
  'none,plugin',
  'sdk,root',
  'sdk,plugin',
  'typescript,plugin',
  'sdk,after',
  'sdk,plugin,settled',
];
const drive = (port, seconds, connections) =>
  new Promise((resolve, reject) =>
    autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections, duration: seconds }, (err, r) =>
      err ? reject(err) : resolve(r),
    ),
  );

const samples = new Map(VARIANTS.map((v) => [v, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  const servers = [];
  for (const variant of order) {
    const child = spawnNode(1, [join(here, 'server.mjs'), variant]);
    servers.push({ variant, child, port: (await nextMessage(child, 'listening')).port });
  }
  const connections = Math.max(8, Math.floor(50 / servers.length));
  await Promise.all(servers.map((s) => drive(s.port, 1, connections)));
  await Promise.all(servers.map((s) => (s.child.send('mark'), nextMessage(s.child, 'marked'))));
  const results = await Promise.all(servers.map((s) => drive(s.port, duration, connections)));
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i];
    s.child.send('report');
    const { cpuMicros } = await nextMessage(s.child, 'report');
    samples.get(s.variant).push(cpuMicros / Math.max(1, results[i]['2xx']));
    s.child.send('exit');
  }
  console.log(
    `round ${round + 1}/${rounds}: ` +
      VARIANTS.map((v) => `${v} ${samples.get(v)[round].toFixed(1)}`).join('  '),
  );
}
const signed = (n) => (n >= 0 ? '+' : '') + n.toFixed(1);
const base = samples.get(VARIANTS[0]);
const table = new ResultTable(
  ['loaded', 'routes', 'nextTick settled', 'CPU µs/req (shared CPU)', 'vs none,root (median of rounds)'],
  3,
);
for (const v of VARIANTS) {
  const [load, setup, settled] = v.split(',');
  const list = samples.get(v);
  table.push([
    load,
    setup,
    settled === undefined ? 'no' : 'yes',
    median(list).toFixed(1),
    v === VARIANTS[0] ? '-' : signed(median(list.map((x, i) => x - base[i]))),
  ]);
}
table.print();
