/**
 * meterline overhead benchmark.
 *
 *   npm run bench                      full run (a few minutes)
 *   npm run bench -- --quick           smoke run (well under a minute); exits 1 only if an instrumented
 *                                      variant does not work, never on timing
 *   flags: --rounds N --duration S --warmup S --connections N --only express[,koa] --skip-extra
 *          --minimal   also run each framework's minimal bare app (nothing preloaded, no plugin loading), the
 *                      baseline that shows the V8 effect described in apps.mjs and bench/RESULTS.md
 *
 * Every server is a fresh child process per round, pinned to CPU 1; the load generator (autocannon) runs in
 * another process pinned to CPU 0. Rounds are interleaved (A B C A B C ...) so that machine noise hits every
 * variant alike, and ratios are taken within a round.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    'skip-extra': { type: 'boolean', default: false },
    minimal: { type: 'boolean', default: false },
  },
});

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name}: expected a positive number, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return n;
}

const quick = flags.quick === true;
const rounds = Math.round(positive('rounds', flags.rounds, quick ? 1 : 6));
const duration = positive('duration', flags.duration, quick ? 1 : 3);
const warmup = positive('warmup', flags.warmup, quick ? 0.5 : 1);
const connections = Math.round(positive('connections', flags.connections, 50));
const pin = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');

type Framework = 'express' | 'fastify' | 'koa';
type Variant = 'bare' | 'meterline' | 'alternative' | 'minimal';
const ALL_FRAMEWORKS: Framework[] = ['express', 'fastify', 'koa'];
const ALTERNATIVE: Record<Framework, string> = {
  express: 'express-prom-bundle',
  fastify: 'fastify-metrics',
  koa: 'prom-client (by hand)',
};

const only = flags.only?.split(',').map((s) => s.trim());
for (const f of only ?? []) {
  if (!ALL_FRAMEWORKS.includes(f as Framework)) {
    console.error(`--only: unknown framework ${JSON.stringify(f)} (express, fastify, koa)`);
    process.exit(2);
  }
}
const frameworks = ALL_FRAMEWORKS.filter((f) => only === undefined || only.includes(f));
const notes: string[] = [];
/** An adapter is benchmarked once its package is built. */
function adapterBuilt(f: Framework): boolean {
  return existsSync(join(repo, 'packages', f, 'dist', 'index.js'));
}

interface Case {
  framework: Framework;
  variant: Variant;
}
const cases: Case[] = [];
for (const framework of frameworks) {
  const variants: Variant[] = ['bare', 'meterline', 'alternative'];
  if (flags.minimal === true) variants.push('minimal');
  for (const variant of variants) {
    if (variant === 'meterline' && !adapterBuilt(framework)) {
      notes.push(
        `@meterline/${framework} is not built (packages/${framework}/dist missing): its variant was skipped`,
      );
      continue;
    }
    cases.push({ framework, variant });
  }
}

interface LoadResult {
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}
interface Sample {
  rps: number;
  p99: number;
  cpuPerRequest: number;
  problem?: string;
}

function pinned(cpu: number, args: string[]): [string, string[]] {
  return pin ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];
}

function runNode(cpu: number, args: string[], timeoutMs: number): Promise<string> {
  const [cmd, argv] = pinned(cpu, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${args.join(' ')} exited with ${code}`));
    });
  });
}

async function load(port: number, seconds: number): Promise<LoadResult> {
  const out = await runNode(
    0,
    ['load.mjs', `http://127.0.0.1:${port}/users/42`, String(connections), String(seconds)],
    (seconds + 30) * 1000,
  );
  return JSON.parse(out.trim().split('\n').pop() as string) as LoadResult;
}

function nextMessage(child: ChildProcess, type: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} message from the server`)), 30_000);
    const onMessage = (m: any) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ${type}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sum of the samples of one family whose labels contain `match` (in the Prometheus text format). */
function sumSamples(text: string, name: string, match: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!line.includes(match)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** What each instrumented variant must show in /metrics after the load: the requests it served. */
const EXPECTED: Record<Framework, Record<'meterline' | 'alternative', { name: string; match: string }>> = {
  express: {
    meterline: { name: 'http_server_request_duration_seconds_count', match: 'http_route="/users/:id"' },
    alternative: { name: 'http_request_duration_seconds_count', match: '/users/' },
  },
  fastify: {
    meterline: { name: 'http_server_request_duration_seconds_count', match: 'http_route="/users/:id"' },
    alternative: { name: 'http_request_duration_seconds_count', match: '/users/:id' },
  },
  koa: {
    meterline: { name: 'http_server_request_duration_seconds_count', match: 'http_route="/users/:id"' },
    alternative: { name: 'http_requests_total', match: 'route="/users/:id"' },
  },
};

async function checkMetrics(c: Case, port: number, served: number): Promise<string | undefined> {
  if (c.variant === 'bare' || c.variant === 'minimal') return undefined;
  await new Promise((r) => setTimeout(r, 100));
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  if (res.status !== 200) return `/metrics answered ${res.status}`;
  const { name, match } = EXPECTED[c.framework][c.variant as 'meterline' | 'alternative'];
  const counted = sumSamples(text, name, match);
  // at most one request per connection was still in flight when each of the two load runs stopped
  if (counted < served || counted > served + 2 * connections) {
    return `/metrics counts ${counted} requests for ${match}, the load generator got ${served} responses`;
  }
  if (c.variant === 'meterline') {
    const active = sumSamples(text, 'http_server_active_requests', '');
    if (active !== 0) return `http_server_active_requests is ${active} after the load ended`;
  }
  return undefined;
}

async function runCase(c: Case): Promise<Sample> {
  const [cmd, argv] = pinned(1, ['server.mjs', c.framework, c.variant]);
  const child = spawn(cmd, argv, { cwd: here, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await nextMessage(child, 'listening');
    const warm = await load(port, warmup);
    const marked = nextMessage(child, 'marked');
    child.send('mark');
    await marked;
    const r = await load(port, duration);
    const reported = nextMessage(child, 'report');
    child.send('report');
    const { cpuMicros } = await reported;
    let problem: string | undefined;
    const failed = warm.errors + warm.non2xx + warm.timeouts + r.errors + r.non2xx + r.timeouts;
    if (failed > 0) problem = `${failed} requests failed (errors, timeouts or non-2xx)`;
    else if (r.ok2xx === 0) problem = 'no request succeeded';
    problem ??= await checkMetrics(c, port, warm.ok2xx + r.ok2xx);
    return { rps: r.rps, p99: r.p99, cpuPerRequest: cpuMicros / Math.max(1, r.ok2xx), problem };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.connected) child.send('exit');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const key = (c: Case) => `${c.framework}:${c.variant}`;
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/**
 * The order of one round: each framework's variants rotated by the round number, so that every variant takes every
 * position in turn. The position in a round matters on these machines (the first variant of a round measured up
 * to ~10 % faster than the last one running the very same app), and a fixed order would hand that to one variant.
 */
function roundOrder(round: number): Case[] {
  const order: Case[] = [];
  for (const framework of frameworks) {
    const own = cases.filter((c) => c.framework === framework);
    for (let i = 0; i < own.length; i++) order.push(own[(i + round) % own.length]);
  }
  return order;
}

async function throughput(): Promise<boolean> {
  const samples = new Map<string, Sample[]>();
  const problems: string[] = [];
  const perRound = cases.length * (warmup + duration + 0.8);
  console.log(
    `throughput: ${cases.length} variants x ${rounds} rounds x (${warmup}s warmup + ${duration}s), ${connections} connections, ` +
      `${pin ? 'server on CPU 1, load on CPU 0' : 'not pinned (taskset or a second CPU missing)'}; about ${Math.ceil((perRound * rounds) / 60)} min`,
  );
  for (let round = 0; round < rounds; round++) {
    for (const c of roundOrder(round)) {
      let s: Sample;
      try {
        s = await runCase(c);
      } catch (err) {
        s = { rps: NaN, p99: NaN, cpuPerRequest: NaN, problem: (err as Error).message };
      }
      if (s.problem !== undefined) problems.push(`${key(c)} round ${round + 1}: ${s.problem}`);
      const list = samples.get(key(c)) ?? [];
      list.push(s);
      samples.set(key(c), list);
      process.stdout.write(
        `  round ${round + 1}/${rounds} ${key(c).padEnd(22)} ${fmt(s.rps).padStart(7)} req/s  p99 ${fmt(s.p99, 2)} ms  ` +
          `${fmt(s.cpuPerRequest, 1)} µs CPU/req${s.problem ? '  PROBLEM: ' + s.problem : ''}\n`,
      );
    }
  }
  const table = new Table({
    head: ['framework', 'variant', 'req/s', 'vs bare', 'p99 ms', 'p99 vs bare', 'CPU µs/req', 'added µs/req'],
    style: { head: [], border: [] },
  });
  const markdown: string[] = [
    '| framework | variant | req/s | vs bare | p99 ms | p99 vs bare | CPU µs/req | added µs/req |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of cases) {
    const list = samples.get(key(c)) as Sample[];
    const bare = samples.get(`${c.framework}:bare`);
    const ratio = (pick: (s: Sample) => number) =>
      bare === undefined ? NaN : median(list.map((s, i) => pick(s) / pick(bare[i])));
    const cpu = median(list.map((s) => s.cpuPerRequest));
    const cpuBare = bare === undefined ? NaN : median(bare.map((s) => s.cpuPerRequest));
    const name =
      c.variant === 'bare' || c.variant === 'meterline'
        ? c.variant
        : c.variant === 'minimal'
          ? 'bare, minimal process'
          : ALTERNATIVE[c.framework];
    const row = [
      c.framework,
      name,
      fmt(median(list.map((s) => s.rps))),
      c.variant === 'bare'
        ? '1'
        : fmt(
            ratio((s) => s.rps),
            3,
          ),
      fmt(median(list.map((s) => s.p99)), 2),
      c.variant === 'bare'
        ? '1'
        : fmt(
            ratio((s) => s.p99),
            3,
          ),
      fmt(cpu, 1),
      c.variant === 'bare' ? '-' : fmt(cpu - cpuBare, 1),
    ];
    table.push(row);
    markdown.push('| ' + row.join(' | ') + ' |');
  }
  console.log(table.toString());
  console.log('\nmarkdown:\n' + markdown.join('\n'));
  for (const p of problems) console.log('PROBLEM ' + p);
  return problems.length === 0;
}

async function scrapeCost(): Promise<boolean> {
  const table = new Table({
    head: [
      'sample lines',
      'series',
      'collect+serialise ms',
      'µs/line',
      'GET ms',
      'GET gzip ms',
      'max loop block ms',
      'bytes / gzip',
    ],
    style: { head: [], border: [] },
  });
  let ok = true;
  for (const lines of [1000, 10000]) {
    try {
      const out = await runNode(
        1,
        ['--expose-gc', 'scrape-cost.mjs', String(lines), quick ? '5' : '20'],
        120_000,
      );
      const r = JSON.parse(out.trim());
      table.push([
        r.lines,
        r.series,
        fmt(r.scrapeMs, 2),
        fmt(r.usPerLine, 2),
        fmt(r.plainMs, 2),
        fmt(r.gzipMs, 2),
        fmt(Math.max(r.plainMaxBlockMs, r.gzipMaxBlockMs), 1),
        `${r.plainBytes} / ${r.gzipBytes}`,
      ]);
    } catch (err) {
      ok = false;
      console.log(`PROBLEM /metrics cost at ${lines} lines: ${(err as Error).message}`);
    }
  }
  console.log('\n/metrics cost (shared handler, real loopback GETs, median):');
  console.log(table.toString());
  return ok;
}

async function cardinality(): Promise<boolean> {
  const table = new Table({
    head: [
      'framework',
      'random-path requests',
      'statuses',
      'series before',
      'series after',
      'heap growth after GC',
    ],
    style: { head: [], border: [] },
  });
  let ok = true;
  const requests = quick ? 5000 : 20000;
  for (const framework of frameworks) {
    if (!adapterBuilt(framework)) continue;
    try {
      const out = await runNode(1, ['--expose-gc', 'cardinality.mjs', framework, String(requests)], 180_000);
      const r = JSON.parse(out.trim());
      const growthKiB = r.heapGrowth / 1024;
      table.push([
        framework,
        r.requests,
        JSON.stringify(r.statuses),
        r.seriesBefore,
        r.seriesAfter,
        `${fmt(growthKiB)} KiB`,
      ]);
      if (r.seriesAfter !== r.seriesBefore) {
        ok = false;
        console.log(`PROBLEM ${framework}: random paths created ${r.seriesAfter - r.seriesBefore} series`);
      }
      if (growthKiB > 1024)
        console.log(`NOTE ${framework}: heap grew ${fmt(growthKiB)} KiB (bound 1024 KiB)`);
    } catch (err) {
      ok = false;
      console.log(`PROBLEM cardinality ${framework}: ${(err as Error).message}`);
    }
  }
  console.log('\ncardinality (random paths; series and heap after GC):');
  console.log(table.toString());
  return ok;
}

const started = Date.now();
for (const n of notes) console.log('NOTE ' + n);
let ok = await throughput();
if (flags['skip-extra'] !== true) {
  ok = (await scrapeCost()) && ok;
  ok = (await cardinality()) && ok;
}
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (!ok) {
  console.log('an instrumented variant did not work (see PROBLEM lines)');
  process.exit(1);
}
