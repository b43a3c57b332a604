// Which modules loaded before a bare Fastify app change its CPU per request: every entry runs the bare app under
// `node <options>` at the same moment on CPU 1 (the bench:cost method), fresh processes per round, order rotated.
//   node run.mjs [--rounds N] [--framework fastify] name=--import,module ...   (name=none: nothing preloaded)
//   name=@meterline,--max-semi-space-size=4: another variant of variants.mjs, with node options
//   name=@meterline,dir:/elsewhere/bench/src: that variant served from another checkout's bench (before/after a change)
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLoader, startServer } from '../../src/processes.mjs';
import { median, sd } from '../../src/stats.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '4' },
    framework: { type: 'string', default: 'fastify' },
  },
});
const entries = positionals.map((p) => {
  const at = p.indexOf('=');
  const [name, spec] = at < 0 ? [p, 'none'] : [p.slice(0, at), p.slice(at + 1)];
  // `@variant` first: that variant of variants.mjs instead of bare
  const parts = spec === 'none' ? [] : spec.split(',');
  const variant = parts[0]?.startsWith('@') ? parts.shift().slice(1) : 'bare';
  const dirPart = parts.findIndex((o) => o.startsWith('dir:'));
  const dir = dirPart < 0 ? undefined : parts.splice(dirPart, 1)[0].slice(4);
  const options = parts.map((o) => (o.startsWith('./') ? resolve(o) : o));
  return { name, variant, options, dir };
});
const loaders = [];
for (const _ of entries) loaders.push(await startLoader(0));
const ratios = new Map(entries.map((e) => [e.name, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  const order = entries.map((_, i) => entries[(i + round) % entries.length]);
  const servers = [];
  for (const e of order)
    servers.push({
      e,
      s: await startServer(values.framework, e.variant, { nodeOptions: e.options, ...(e.dir && { dir: e.dir }) }),
    });
  for (const { s } of servers) await loaders[0].run(s.port, 2, 50);
  for (const { s } of servers) await s.mark();
  const results = await Promise.all(
    servers.map(({ s }, i) => loaders[i].run(s.port, Number(values.duration), 25)),
  );
  const per = [];
  for (const [i, { s }] of servers.entries())
    per[i] = (await s.cpuSinceMark()) / Math.max(1, results[i].ok2xx);
  const base = per[servers.findIndex(({ e }) => e === entries[0])];
  servers.forEach(({ e }, i) => ratios.get(e.name).push(per[i] / base));
  console.log(
    `round ${round + 1}: ` + servers.map(({ e }, i) => `${e.name} ${per[i].toFixed(1)}`).join('  '),
  );
  await Promise.all(servers.map(({ s }) => s.stop()));
}
for (const l of loaders) l.stop();
for (const [name, r] of ratios)
  console.log(`${name.padEnd(24)} ${median(r).toFixed(3)}  sd ${sd(r).toFixed(3)}`);
