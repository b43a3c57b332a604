/**
 * CPU cost per request with every variant under load at the same time: `npm run bench:cost` (about 2 minutes per
 * framework with the defaults).
 *
 *   flags: --only express[,koa] --variants bare,control,meterline[,alternative] --rounds N --duration S
 *          --connections N (per variant) --warmup S (per variant, alone, before each round's measurement)
 *
 * The throughput benchmark (`npm run bench`) measures the variants one after the other in short interleaved slices;
 * this machine's speed changes from one second to the next (the same process measured in consecutive windows of
 * 15,000 requests varied by up to 40 %), so a slice pair still differs by ~8-10 % (sd of a round's ratio, with an
 * A/A control). Here every variant of a framework runs at the same moment on the same CPU (CPU 1; one load process
 * per variant on CPU 0), so a slow moment slows all of them alike, and each one's CPU time per request is compared
 * with bare's in the same round (fresh processes every round, order rotated). A round's ratio then varies by
 * ~2-3 %. The µs are inflated by the sharing (the processes evict each other's caches: ~20 % more than alone), and
 * so are costs that come from touching more memory or code; read the ratio, not the µs. `control` is a second bare
 * process: its ratio is the noise floor. Throughput at equal CPU is the inverse of the cost ratio.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    variants: { type: 'string', default: 'bare,control,meterline' },
    rounds: { type: 'string', default: '8' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '25' },
    warmup: { type: 'string', default: '2' },
  },
});

function positive(name, value, integer) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(
      `--${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`,
    );
    process.exit(2);
  }
  return n;
}
const rounds = positive('rounds', flags.rounds, true);
const duration = positive('duration', flags.duration, false);
const connections = positive('connections', flags.connections, true);
const warmup = positive('warmup', flags.warmup, false);
const FRAMEWORKS = ['express', 'fastify', 'koa'];
const VARIANTS = ['bare', 'control', 'meterline', 'alternative'];
const ALTERNATIVE = {
  express: 'express-prom-bundle',
  fastify: 'fastify-metrics',
  koa: 'prom-client (by hand)',
};
const frameworks = flags.only === undefined ? FRAMEWORKS : flags.only.split(',').map((s) => s.trim());
const variants = flags.variants.split(',').map((s) => s.trim());
for (const f of frameworks) {
  if (!FRAMEWORKS.includes(f)) {
    console.error(`--only: unknown framework ${JSON.stringify(f)} (${FRAMEWORKS.join(', ')})`);
    process.exit(2);
  }
}
for (const v of variants) {
  if (!VARIANTS.includes(v)) {
    console.error(`--variants: unknown variant ${JSON.stringify(v)} (${VARIANTS.join(', ')})`);
    process.exit(2);
  }
}
if (variants[0] !== 'bare') {
  console.error('--variants: the first variant must be bare (the others are compared with it)');
  process.exit(2);
}
const pin = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
const pinned = (cpu, args) =>
  pin ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];

function nextMessage(child, type, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${type} message from process ${child.pid}`)),
      timeoutMs,
    );
    const onMessage = (m) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`process ${child.pid} exited (${code}) before ${type}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function start(cpu, args) {
  const [cmd, argv] = pinned(cpu, args);
  return spawn(cmd, argv, { cwd: here, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function load(loader, port, seconds, conns) {
  const answer = nextMessage(loader, 'result', (seconds + 30) * 1000);
  loader.send({ url: `http://127.0.0.1:${port}/users/42`, connections: conns, seconds });
  const m = await answer;
  if (m.error !== undefined) throw new Error(`load generator: ${m.error}`);
  return m.result;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sd = (xs) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
};

console.log(
  `CPU cost per request, all variants loaded at once on ${pin ? 'CPU 1 (load on CPU 0)' : 'any CPU (taskset or a second CPU missing)'}: ` +
    `${frameworks.length} framework(s) x ${rounds} rounds x (${warmup}s warm-up per variant + ${duration}s together), ` +
    `${connections} connections per variant`,
);
const loaders = [];
for (let i = 0; i < variants.length; i++) {
  const l = start(0, ['load.mjs']);
  await nextMessage(l, 'ready');
  loaders.push(l);
}
const table = new Table({
  head: [
    'framework',
    'variant',
    'CPU µs/req (shared)',
    'cost vs bare',
    'sd of a round',
    'throughput at equal CPU',
  ],
  style: { head: [], border: [] },
});
const markdown = [
  '| framework | variant | CPU µs/req (shared) | cost vs bare | sd of a round | throughput at equal CPU |',
  '|---|---|---:|---:|---:|---:|',
];
const problems = [];
try {
  for (const framework of frameworks) {
    const cpu = Object.fromEntries(variants.map((v) => [v, []]));
    const ratio = Object.fromEntries(variants.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      const servers = [];
      try {
        for (const variant of order) {
          const child = start(1, ['server.mjs', framework, variant]);
          servers.push({ variant, child, port: (await nextMessage(child, 'listening')).port });
        }
        for (const s of servers) await load(loaders[0], s.port, warmup, 50);
        for (const s of servers) {
          s.child.send('mark');
          await nextMessage(s.child, 'marked');
        }
        const results = await Promise.all(
          servers.map((s, i) => load(loaders[i], s.port, duration, connections)),
        );
        for (const [i, s] of servers.entries()) {
          s.child.send('report');
          const { cpuMicros } = await nextMessage(s.child, 'report');
          const r = results[i];
          if (r.errors > 0 || r.non2xx > 0 || r.ok2xx === 0) {
            problems.push(
              `${framework}:${s.variant} round ${round + 1}: ${r.ok2xx} 2xx, ${r.non2xx} other, ${r.errors} errors`,
            );
          }
          s.cpu = cpuMicros / Math.max(1, r.ok2xx);
        }
        const base = servers.find((s) => s.variant === 'bare').cpu;
        const line = [];
        for (const s of servers) {
          cpu[s.variant].push(s.cpu);
          ratio[s.variant].push(s.cpu / base);
          line.push(`${s.variant} ${s.cpu.toFixed(1)}`);
        }
        console.log(`  ${framework} round ${round + 1}/${rounds}  µs/req: ${line.join('  ')}`);
      } finally {
        for (const s of servers) if (s.child.connected) s.child.send('exit');
      }
    }
    for (const variant of variants) {
      const cost = median(ratio[variant]);
      const row = [
        framework,
        variant === 'alternative'
          ? ALTERNATIVE[framework]
          : variant === 'control'
            ? 'bare again (A/A control)'
            : variant,
        median(cpu[variant]).toFixed(1),
        variant === 'bare' ? '1' : cost.toFixed(3),
        variant === 'bare' || ratio[variant].length < 2 ? '-' : sd(ratio[variant]).toFixed(3),
        variant === 'bare' ? '1' : (1 / cost).toFixed(3),
      ];
      table.push(row);
      markdown.push('| ' + row.join(' | ') + ' |');
    }
  }
} finally {
  for (const l of loaders) if (l.connected) l.send('exit');
}
console.log(table.toString());
console.log('\nmarkdown:\n' + markdown.join('\n'));
for (const p of problems) console.log('PROBLEM ' + p);
process.exitCode = problems.length === 0 ? 0 : 1;
