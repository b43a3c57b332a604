// perf profile of two processes under the same load, by symbol: bare Fastify with nothing preloaded against bare with
// `--import <module>` (default @opentelemetry/api), or against a variant of variants.mjs given as `@variant`:
//   node profile.mjs [module | @variant] [framework]
import { execFileSync, spawn } from 'node:child_process';
import { startLoader, startServer } from '../../src/processes.mjs';

const [other = '@opentelemetry/api', framework = 'fastify'] = process.argv.slice(2);
const specs = [
  ['bare', 'bare', []],
  other.startsWith('@') && !other.includes('/') ? [other, other.slice(1), []] : [other, 'bare', ['--import', other]],
];
const loaders = [await startLoader(0), await startLoader(0)];
const servers = [];
for (const [name, variant, opts] of specs)
  servers.push({
    name,
    s: await startServer(framework, variant, { nodeOptions: ['--perf-basic-prof', ...opts] }),
  });
for (const { s } of servers) await loaders[0].run(s.port, 2, 50);
const rec = new Promise((r) =>
  setTimeout(
    () =>
      spawn('perf', ['record', '-C', '1', '-F', '2000', '-o', '/tmp/ie.data', '--', 'sleep', '3'], {
        stdio: 'ignore',
      }).on('close', r),
    300,
  ),
);
const results = await Promise.all(servers.map(({ s }, i) => loaders[i].run(s.port, 4, 25)));
await rec;
const out = execFileSync(
  'perf',
  ['report', '-i', '/tmp/ie.data', '--no-children', '--sort', 'pid,sym', '-g', 'none', '--stdio', '-n'],
  { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] },
);
const by = new Map();
for (const line of out.split('\n')) {
  const m = /^\s*[\d.]+%\s+(\d+)\s+(\d+):\S+\s+(?:\[.\]\s+)?(.*)$/.exec(line);
  if (!m) continue;
  const sym = m[3].trim().replace(/:\d+:\d+$/, '');
  if (!by.has(m[2])) by.set(m[2], new Map());
  const s = by.get(m[2]);
  s.set(sym, (s.get(sym) ?? 0) + Number(m[1]));
}
const per = servers.map(({ s }, i) => {
  const m = by.get(String(s.child.pid)) ?? new Map();
  const reqs = (results[i].ok2xx * 3) / results[i].seconds;
  return new Map([...m].map(([k, n]) => [k, ((n / 2000) * 1e6) / reqs]));
});
const keys = new Set([...per[0].keys(), ...per[1].keys()]);
const rows = [...keys]
  .map((k) => [k, per[0].get(k) ?? 0, per[1].get(k) ?? 0])
  .sort((a, b) => b[2] - b[1] - (a[2] - a[1]));
const tot = (m) => [...m.values()].reduce((a, b) => a + b, 0);
console.log(`total µs/req sampled: bare ${tot(per[0]).toFixed(2)} ${other} ${tot(per[1]).toFixed(2)}`);
for (const r of rows.slice(0, 30))
  console.log(
    `${(r[2] - r[1]).toFixed(2).padStart(6)} ${r[1].toFixed(2)} -> ${r[2].toFixed(2)} ${r[0].slice(0, 120)}`,
  );
console.log('...');
for (const r of rows.slice(-6))
  console.log(
    `${(r[2] - r[1]).toFixed(2).padStart(6)} ${r[1].toFixed(2)} -> ${r[2].toFixed(2)} ${r[0].slice(0, 120)}`,
  );
for (const l of loaders) l.stop();
await Promise.all(servers.map(({ s }) => s.stop()));
