/**
 * The throughput benchmark: `npm run bench` (about 7 minutes), `npm run bench:ci` (smoke run, --quick).
 * bench/README.md explains the method, the flags and how to read the output.
 *
 *   --quick       one short round (well under a minute); exits 1 only if an instrumented variant does not work,
 *                 never on timing
 *   --rounds N --duration S (measured per variant and round) --slices N --warmup S --connections N
 *   --only express[,koa]  --skip-extra (no /metrics cost, no cardinality check)
 *   --variants bare,meterline,alternative (the default; any of variants.mjs, bare among them)
 *   --control     also run `control`, a second bare process: its "vs bare" ratio is the run's A/A noise floor
 *
 * Every round starts a fresh server process per variant (all pinned to CPU 1, only the one under load busy); the
 * load generator (autocannon) runs in its own process pinned to CPU 0. A round warms every server up, then measures
 * them in short slices interleaved in rotating order (A B C, B C A, C A B, ...), so that the machine's slow and
 * fast moments hit every variant alike. Throughput ratios and added CPU are the median over all slices of all rounds,
 * each slice compared with bare's slice of the same rotation (next to it in time), and so are p99 ratios (each
 * slice's own p99); the req/s, p99 and CPU columns are medians over rounds (a round's p99: the median of its
 * slices').
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { list, positive, variantList } from './cli.mjs';
import { canPin, runNode, startLoader, startServer } from './processes.mjs';
import { fmt, ResultTable } from './report.mjs';
import { median } from './stats.mjs';
import { appOf, FRAMEWORKS, importsMeterline, variantLabel, VARIANTS } from './variants.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    slices: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    variants: { type: 'string', default: 'bare,meterline,alternative' },
    control: { type: 'boolean', default: false },
    'skip-extra': { type: 'boolean', default: false },
  },
});

const quick = flags.quick === true;
const rounds = positive('rounds', flags.rounds ?? (quick ? 1 : 6), { integer: true });
/** measured seconds per variant and round, split into `slices` interleaved slices */
const duration = positive('duration', flags.duration ?? (quick ? 1 : 3.2));
const slices = positive('slices', flags.slices ?? (quick ? 2 : 8), { integer: true });
const warmup = positive('warmup', flags.warmup ?? (quick ? 0.5 : 2));
const connections = positive('connections', flags.connections ?? 50, { integer: true });

type Framework = 'express' | 'fastify' | 'koa';
const frameworks: Framework[] = flags.only === undefined ? FRAMEWORKS : list('only', flags.only, FRAMEWORKS);
const variants: string[] = variantList(flags.variants as string, VARIANTS);
if (flags.control === true && !variants.includes('control')) variants.push('control');

const notes: string[] = [];
/** An adapter is benchmarked once its package is built. */
function adapterBuilt(f: Framework): boolean {
  return existsSync(join(repo, 'packages', f, 'dist', 'index.js'));
}

interface Case {
  framework: Framework;
  variant: string;
}
const cases: Case[] = [];
for (const framework of frameworks) {
  for (const variant of variants) {
    if (importsMeterline(variant) && !adapterBuilt(framework)) {
      notes.push(
        `@meterline/${framework} is not built (packages/${framework}/dist missing): ${framework}:${variant} was skipped`,
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
  /** of every 2xx response's latency, ms */
  p50: number;
  p99: number;
}
interface Sample {
  rps: number;
  p99: number;
  cpuPerRequest: number;
  /** req/s, CPU µs per request and p99 of each slice, in the order of the round's slices */
  sliceRps: number[];
  sliceCpu: number[];
  sliceP99: number[];
  problem?: string;
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

/** What each instrumented app must show in /metrics after the load: the requests it served. */
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
  const { app, measures } = appOf(c.variant);
  if (!measures) return undefined;
  await new Promise((r) => setTimeout(r, 100));
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  if (res.status !== 200) return `/metrics answered ${res.status}`;
  const { name, match } = EXPECTED[c.framework][app as 'meterline' | 'alternative'];
  const counted = sumSamples(text, name, match);
  // at most one request per connection was still in flight when each load run (warm-up and slices) stopped
  if (counted < served || counted > served + (1 + slices) * connections) {
    return `/metrics counts ${counted} requests for ${match}, the load generator got ${served} responses`;
  }
  if (app === 'meterline') {
    const active = sumSamples(text, 'http_server_active_requests', '');
    if (active !== 0) return `http_server_active_requests is ${active} after the load ended`;
  }
  return undefined;
}

type Loader = Awaited<ReturnType<typeof startLoader>>;
type Server = Awaited<ReturnType<typeof startServer>>;

/** A server of this round and what was measured of it so far. */
interface Running {
  c: Case;
  server: Server;
  served: number;
  failed: number;
  ok: number;
  seconds: number;
  cpuMicros: number;
  sliceRps: number[];
  sliceCpu: number[];
  sliceP99: number[];
}

function tally(s: Running, r: LoadResult): void {
  s.served += r.ok2xx;
  s.failed += r.errors + r.non2xx + r.timeouts;
}

/**
 * One round of one framework: a fresh process per variant, all alive at once (only the one under load is busy),
 * each warmed up, then measured in `slices` short slices in rotating order.
 */
async function runRound(loader: Loader, own: Case[]): Promise<Map<Case, Sample>> {
  const servers: Running[] = [];
  const out = new Map<Case, Sample>();
  try {
    // started together (before anything is measured), warmed up one after the other
    const started = await Promise.allSettled(own.map((c) => startServer(c.framework, c.variant)));
    started.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        servers.push({
          c: own[i],
          server: r.value,
          served: 0,
          failed: 0,
          ok: 0,
          seconds: 0,
          cpuMicros: 0,
          sliceRps: [],
          sliceCpu: [],
          sliceP99: [],
        });
      }
    });
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    for (const s of servers) tally(s, await loader.run(s.server.port, warmup, connections));
    const slice = duration / slices;
    for (let i = 0; i < slices; i++) {
      for (let j = 0; j < servers.length; j++) {
        const s = servers[(i + j) % servers.length];
        await s.server.mark();
        const r: LoadResult = await loader.run(s.server.port, slice, connections);
        const cpuMicros: number = await s.server.cpuSinceMark();
        tally(s, r);
        s.ok += r.ok2xx;
        s.seconds += r.seconds;
        s.cpuMicros += cpuMicros;
        s.sliceRps.push(r.ok2xx / Math.max(1e-9, r.seconds));
        s.sliceCpu.push(cpuMicros / Math.max(1, r.ok2xx));
        s.sliceP99.push(r.p99);
      }
    }
    for (const s of servers) {
      let problem: string | undefined;
      if (s.failed > 0) problem = `${s.failed} requests failed (errors, timeouts or non-2xx)`;
      else if (s.ok === 0) problem = 'no request succeeded';
      problem ??= await checkMetrics(s.c, s.server.port, s.served);
      out.set(s.c, {
        rps: s.ok / Math.max(1e-9, s.seconds),
        p99: median(s.sliceP99),
        cpuPerRequest: s.cpuMicros / Math.max(1, s.ok),
        sliceRps: s.sliceRps,
        sliceCpu: s.sliceCpu,
        sliceP99: s.sliceP99,
        problem,
      });
    }
  } catch (err) {
    for (const c of own) {
      if (!out.has(c)) {
        const problem = (err as Error).message;
        out.set(c, {
          rps: NaN,
          p99: NaN,
          cpuPerRequest: NaN,
          sliceRps: [],
          sliceCpu: [],
          sliceP99: [],
          problem,
        });
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.server.stop()));
  }
  return out;
}

const key = (c: Case) => `${c.framework}:${c.variant}`;

/**
 * A framework's variants in the order of one round, rotated by the round number, so that every variant takes every
 * position in turn (starting and warming up first, measuring first in each slice). The position mattered on these
 * machines (with one process after the other, the first of a round measured up to ~10 % faster than the last one
 * running the very same app), and a fixed order would hand that to one variant.
 */
function roundOrder(framework: Framework, round: number): Case[] {
  const own = cases.filter((c) => c.framework === framework);
  return own.map((_, i) => own[(i + round) % own.length]);
}

async function throughput(): Promise<boolean> {
  const samples = new Map<string, Sample[]>();
  const problems: string[] = [];
  const perRound = cases.length * (warmup + duration + 0.05 * slices) + frameworks.length * 1.5;
  console.log(
    `throughput: ${cases.length} variants x ${rounds} rounds x (${warmup}s warmup + ${slices} interleaved slices of ` +
      `${fmt(duration / slices, 2)}s), ${connections} connections, ` +
      `${canPin ? 'servers on CPU 1, load on CPU 0' : 'not pinned (taskset or a second CPU missing)'}; about ${Math.ceil((perRound * rounds) / 60)} min`,
  );
  const loader = await startLoader(0);
  try {
    for (let round = 0; round < rounds; round++) {
      for (const framework of frameworks) {
        const order = roundOrder(framework, round);
        if (order.length === 0) continue;
        const results = await runRound(loader, order);
        for (const c of order) {
          const s = results.get(c) as Sample;
          if (s.problem !== undefined) problems.push(`${key(c)} round ${round + 1}: ${s.problem}`);
          const list = samples.get(key(c)) ?? [];
          list.push(s);
          samples.set(key(c), list);
          process.stdout.write(
            `  round ${round + 1}/${rounds} ${key(c).padEnd(30)} ${fmt(s.rps).padStart(7)} req/s  p99 ${fmt(s.p99, 2)} ms  ` +
              `${fmt(s.cpuPerRequest, 1)} µs CPU/req${s.problem ? '  PROBLEM: ' + s.problem : ''}\n`,
          );
        }
      }
    }
  } finally {
    loader.stop();
  }
  const table = new ResultTable([
    'framework',
    'variant',
    'req/s',
    'vs bare',
    'p99 ms',
    'p99 vs bare',
    'CPU µs/req',
    'added µs/req',
  ]);
  for (const c of cases) {
    const list = samples.get(key(c)) as Sample[];
    const bare = samples.get(`${c.framework}:bare`);
    /** median over every slice of every round, each compared with bare's slice of the same rotation */
    const slicePairs = (pick: (s: Sample) => number[], combine: (v: number, b: number) => number) => {
      if (bare === undefined) return NaN;
      const values: number[] = [];
      list.forEach((s, i) => {
        const own = pick(s);
        const base = pick(bare[i]);
        for (let k = 0; k < Math.min(own.length, base.length); k++) values.push(combine(own[k], base[k]));
      });
      return values.length === 0 ? NaN : median(values);
    };
    const isBare = c.variant === 'bare';
    const ratioToBare = (pick: (s: Sample) => number[]) =>
      isBare
        ? '1'
        : fmt(
            slicePairs(pick, (v, b) => v / b),
            3,
          );
    table.push([
      c.framework,
      variantLabel(c.framework, c.variant),
      fmt(median(list.map((s) => s.rps))),
      ratioToBare((s) => s.sliceRps),
      fmt(median(list.map((s) => s.p99)), 2),
      ratioToBare((s) => s.sliceP99),
      fmt(median(list.map((s) => s.cpuPerRequest)), 1),
      isBare
        ? '-'
        : fmt(
            slicePairs(
              (s) => s.sliceCpu,
              (v, b) => v - b,
            ),
            1,
          ),
    ]);
  }
  table.print();
  for (const p of problems) console.log('PROBLEM ' + p);
  return problems.length === 0;
}

/** The large scrape of the /metrics cost table, and the longest event-loop block it may cause (the goal shown). */
const LARGE_SCRAPE_LINES = 100_000;
const LARGE_SCRAPE_GOAL_MS = 20;

async function scrapeCost(): Promise<boolean> {
  const table = new ResultTable(
    [
      'sample lines',
      'series',
      'collect+serialise ms',
      'µs/line',
      'GET ms',
      'GET gzip ms',
      'max loop block ms',
      'bytes / gzip',
    ],
    0,
  );
  let ok = true;
  let largeBlockMs: number | undefined;
  for (const lines of [1000, 10000, LARGE_SCRAPE_LINES]) {
    try {
      const out = await runNode(
        1,
        ['--expose-gc', 'scrape-cost.mjs', String(lines), quick ? '5' : lines >= 100_000 ? '10' : '20'],
        120_000,
      );
      const r = JSON.parse(out.trim());
      if (lines === LARGE_SCRAPE_LINES) largeBlockMs = Math.max(r.plainMaxBlockMs, r.gzipMaxBlockMs);
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
  table.print();
  if (largeBlockMs !== undefined) {
    const met = largeBlockMs < LARGE_SCRAPE_GOAL_MS ? 'met' : 'NOT met';
    console.log(
      `goal: /metrics at 100k sample lines blocks the event loop < ${LARGE_SCRAPE_GOAL_MS} ms at a time: ${met} ` +
        `(longest block ${fmt(largeBlockMs, 1)} ms, plain and gzip)`,
    );
  }
  return ok;
}

async function cardinality(): Promise<boolean> {
  const table = new ResultTable(
    [
      'framework',
      'random-path requests',
      'statuses',
      'series before',
      'series after',
      'heap growth after GC',
    ],
    1,
  );
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
      const answered = Object.values(r.statuses as Record<string, number>).reduce((a, b) => a + b, 0);
      if (answered !== r.requests) {
        ok = false;
        console.log(`PROBLEM ${framework}: ${answered} of ${r.requests} random-path requests answered`);
      }
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
  table.print();
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
