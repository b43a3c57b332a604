/**
 * CPU cost per request with every variant under load at the same time: `npm run bench:cost` (about 2 minutes per
 * framework with the defaults). bench/README.md explains the method, the flags and how to read the output.
 *
 *   flags: --only express[,koa] (also the other supported majors of majors.mjs: express4, fastify4, koa2)
 *          --majors    adds express4, fastify4 and koa2 (alone: only them); each runs from a project of its own
 *          --rounds N --duration S --connections N (per variant)
 *          --warmup S (per variant, alone, before each round's measurement)
 *          --variants bare,control,meterline (the default; any of variants.mjs, bare among them, e.g. add
 *                      alternative, or bare-preloaded for what importing both metrics modules and settling
 *                      process.nextTick does to a process)
 *          --perf      also sample CPU 1 with `perf record` while the variants run together (servers started with
 *                      --perf-basic-prof) and print, per variant, the symbols whose sampled µs per request differ
 *                      most from bare's, averaged over rounds: where the added cost goes, V8's runtime and the
 *                      kernel included, measured under the same conditions for every variant (needs linux-perf)
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
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fail, list, positive, variantList } from './cli.mjs';
import { MAJOR_VARIANTS, MAJORS, prepareMajors } from './majors.mjs';
import { canPin, startLoader, startServer } from './processes.mjs';
import { ResultTable } from './report.mjs';
import { median, sd } from './stats.mjs';
import { FRAMEWORKS, variantLabel, VARIANTS } from './variants.mjs';

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    majors: { type: 'boolean', default: false },
    variants: { type: 'string', default: 'bare,control,meterline' },
    rounds: { type: 'string', default: '8' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '25' },
    warmup: { type: 'string', default: '2' },
    perf: { type: 'boolean', default: false },
  },
});

const rounds = positive('rounds', flags.rounds, { integer: true });
const duration = positive('duration', flags.duration);
const connections = positive('connections', flags.connections, { integer: true });
const warmup = positive('warmup', flags.warmup);
const majorNames = Object.keys(MAJORS);
const chosen =
  flags.only === undefined
    ? flags.majors
      ? []
      : FRAMEWORKS
    : list('only', flags.only, [...FRAMEWORKS, ...majorNames]);
/** what the tables call a framework: one of FRAMEWORKS (the bench workspace's) or of MAJORS */
const frameworks = [...new Set([...chosen, ...(flags.majors ? majorNames : [])])];
const variants = variantList(flags.variants, VARIANTS);
const majors = frameworks.filter((f) => majorNames.includes(f));
const unavailable = variants.filter((v) => !MAJOR_VARIANTS.includes(v));
if (majors.length > 0 && unavailable.length > 0) {
  fail(
    `--variants: ${unavailable.join(', ')} cannot run on ${majors.join(', ')} (only ${MAJOR_VARIANTS.join(', ')}: ` +
      'the alternatives are installed in the bench workspace only)',
  );
}
const perf = flags.perf === true;
if (perf && !existsSync('/usr/bin/perf')) fail('--perf needs perf: apt-get install -y linux-perf');
if (perf && !canPin) fail('--perf samples CPU 1 and needs the servers pinned there (two CPUs and taskset)');
const PERF_HZ = 2000;
const perfDir = perf ? mkdtempSync(join(tmpdir(), 'meterline-cost-')) : undefined;

/** Samples per (pid, symbol) of one `perf record` file. */
function perfSamples(file) {
  const out = execFileSync(
    'perf',
    ['report', '-i', file, '--no-children', '--sort', 'pid,sym', '-g', 'none', '--stdio', '-n'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const byPid = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\d+):\S+\s+(?:\[.\]\s+)?(.*)$/.exec(line);
    if (m === null) continue;
    // JIT symbols carry line:column; merge the copies V8 made of one function
    const symbol = m[3].trim().replace(/:\d+:\d+$/, '');
    let symbols = byPid.get(m[2]);
    if (symbols === undefined) byPid.set(m[2], (symbols = new Map()));
    symbols.set(symbol, (symbols.get(symbol) ?? 0) + Number(m[1]));
  }
  return byPid;
}

console.log(
  `CPU cost per request, all variants loaded at once on ${canPin ? 'CPU 1 (load on CPU 0)' : 'any CPU (taskset or a second CPU missing)'}: ` +
    `${frameworks.length} framework(s) x ${rounds} rounds x (${warmup}s warm-up per variant + ${duration}s together), ` +
    `${connections} connections per variant`,
);
/** name -> the builder in apps.mjs and the folder its servers run from (default: src/) */
const apps = new Map(frameworks.map((f) => [f, { framework: f, dir: undefined }]));
for (const [name, project] of prepareMajors(majors)) apps.set(name, project);
/** one load generator per variant, all on CPU 0 */
const loaders = [];
for (let i = 0; i < variants.length; i++) loaders.push(await startLoader(0));
const table = new ResultTable([
  'framework',
  'variant',
  'CPU µs/req (shared)',
  'cost vs bare',
  'sd of a round',
  'throughput at equal CPU',
]);
const problems = [];

/** The symbols whose sampled µs per request differ most between each variant and bare. */
function printProfiles(framework, profiles) {
  const bare = profiles.bare;
  const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
  for (const variant of variants) {
    if (variant === 'bare') continue;
    const own = profiles[variant];
    const rows = [...new Set([...bare.keys(), ...own.keys()])]
      .map((symbol) => ({ symbol, a: bare.get(symbol) ?? 0, b: own.get(symbol) ?? 0 }))
      .sort((x, y) => y.b - y.a - (x.b - x.a));
    console.log(
      `\n${framework} ${variant} vs bare, sampled µs per request: ${total(own).toFixed(2)} vs ${total(bare).toFixed(2)} ` +
        `(${(total(own) - total(bare)).toFixed(2)} added); most added, then most saved:`,
    );
    const show = (r) =>
      console.log(
        `  ${(r.b - r.a >= 0 ? '+' : '') + (r.b - r.a).toFixed(2)}  ${r.a.toFixed(2)} -> ${r.b.toFixed(2)}  ${r.symbol.slice(0, 110)}`,
      );
    rows.slice(0, 25).forEach(show);
    console.log('  ...');
    rows.slice(-8).forEach(show);
  }
}
try {
  for (const framework of frameworks) {
    const app = apps.get(framework);
    const cpu = Object.fromEntries(variants.map((v) => [v, []]));
    const ratio = Object.fromEntries(variants.map((v) => [v, []]));
    /** per variant: symbol -> sampled µs per request, averaged over rounds (--perf) */
    const profiles = Object.fromEntries(variants.map((v) => [v, new Map()]));
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      const servers = [];
      try {
        for (const variant of order) {
          const nodeOptions = perf ? ['--perf-basic-prof'] : [];
          servers.push(await startServer(app.framework, variant, { cpu: 1, nodeOptions, dir: app.dir }));
        }
        for (const s of servers) await loaders[0].run(s.port, warmup, 50);
        for (const s of servers) await s.mark();
        // perf samples the middle of the shared run: from 0.25 s in to 0.25 s before its end
        const perfFile = perf ? join(perfDir, `${framework}-${round}.data`) : undefined;
        const sampled = Math.max(0.1, duration - 0.5);
        const recording = perf
          ? new Promise((resolve) => {
              setTimeout(() => {
                const child = spawn(
                  'perf',
                  [
                    'record',
                    '-C',
                    '1',
                    '-F',
                    String(PERF_HZ),
                    '-o',
                    perfFile,
                    '--',
                    'sleep',
                    String(sampled),
                  ],
                  { stdio: 'ignore' },
                );
                child.on('close', resolve);
              }, 250);
            })
          : undefined;
        const results = await Promise.all(
          servers.map((s, i) => loaders[i].run(s.port, duration, connections)),
        );
        await recording;
        /** CPU µs per request of servers[i] */
        const perRequest = [];
        for (const [i, s] of servers.entries()) {
          const cpuMicros = await s.cpuSinceMark();
          const r = results[i];
          if (r.errors > 0 || r.non2xx > 0 || r.ok2xx === 0) {
            problems.push(
              `${framework}:${s.variant} round ${round + 1}: ${r.ok2xx} 2xx, ${r.non2xx} other, ${r.errors} errors`,
            );
          }
          perRequest[i] = cpuMicros / Math.max(1, r.ok2xx);
        }
        if (perf) {
          const byPid = perfSamples(perfFile);
          for (const [i, s] of servers.entries()) {
            const symbols = byPid.get(String(s.child.pid)) ?? new Map();
            // sampled µs per request: samples / rate, over the requests answered while sampling (pro rata)
            const requests = (results[i].ok2xx * sampled) / results[i].seconds;
            const into = profiles[s.variant];
            for (const [symbol, n] of symbols) {
              into.set(symbol, (into.get(symbol) ?? 0) + ((n / PERF_HZ) * 1e6) / requests / rounds);
            }
          }
        }
        const base = perRequest[servers.findIndex((s) => s.variant === 'bare')];
        const line = [];
        for (const [i, s] of servers.entries()) {
          cpu[s.variant].push(perRequest[i]);
          ratio[s.variant].push(perRequest[i] / base);
          line.push(`${s.variant} ${perRequest[i].toFixed(1)}`);
        }
        console.log(`  ${framework} round ${round + 1}/${rounds}  µs/req: ${line.join('  ')}`);
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    for (const variant of variants) {
      const cost = median(ratio[variant]);
      const row = [
        framework,
        variantLabel(app.framework, variant),
        median(cpu[variant]).toFixed(1),
        variant === 'bare' ? '1' : cost.toFixed(3),
        variant === 'bare' || ratio[variant].length < 2 ? '-' : sd(ratio[variant]).toFixed(3),
        variant === 'bare' ? '1' : (1 / cost).toFixed(3),
      ];
      table.push(row);
    }
    if (perf) printProfiles(framework, profiles);
  }
} finally {
  for (const l of loaders) l.stop();
}
if (perfDir !== undefined) rmSync(perfDir, { recursive: true, force: true });
table.print();
for (const p of problems) console.log('PROBLEM ' + p);
process.exitCode = problems.length === 0 ? 0 : 1;
