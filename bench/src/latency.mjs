/**
 * Latency at a fixed request rate (open loop): `npm run bench:latency` (about 8 minutes for the three frameworks
 * with the defaults). bench/README.md explains the method, the flags and how to read the output.
 *
 *   flags: --only express[,koa] --rounds N --duration S (measured seconds per variant and load)
 *          --warmup S (seconds at the rate before each measurement, not recorded)
 *          --variants bare,control,meterline (the default; any of variants.mjs, bare among them)
 *          --connections N (keep-alive connections of the open-loop generator, opened before each run)
 *
 * The goal this checks: meterline's p99 at 50 % and 80 % of bare's capacity stays within 1.05x bare's. Each round
 * measures bare's capacity (closed loop, autocannon, fresh process), then starts each variant in a fresh process,
 * alone, in rotating order, and sends it GET /users/42 at 50 % and then 80 % of that capacity from open-loop.mjs
 * (requests on schedule whether or not earlier ones were answered, latency from the scheduled time). A run whose
 * server answered under 97 % of the rate, or whose generator fell over 1 ms behind, is invalid and left out. The
 * table gives the median over rounds of each variant's p99 divided by bare's in the same round.
 */
import { parseArgs } from 'node:util';
import { list, positive, variantList } from './cli.mjs';
import { canPin, startLoader, startOpenLoopLoader, startServer } from './processes.mjs';
import { fmt, ResultTable } from './report.mjs';
import { median, sd } from './stats.mjs';
import { FRAMEWORKS, variantLabel, VARIANTS } from './variants.mjs';

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    variants: { type: 'string', default: 'bare,control,meterline' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '2.5' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '512' },
  },
});

const rounds = positive('rounds', flags.rounds, { integer: true });
const duration = positive('duration', flags.duration);
const warmup = positive('warmup', flags.warmup);
const connections = positive('connections', flags.connections, { integer: true });
const frameworks = flags.only === undefined ? FRAMEWORKS : list('only', flags.only, FRAMEWORKS);
const variants = variantList(flags.variants, VARIANTS);

/** shares of bare's capacity the variants are measured at */
const LOADS = [0.5, 0.8];
/** a run whose server answered fewer requests per second than this share of the rate did not keep up */
const MIN_ACHIEVED = 0.97;
/** a run whose generator sent requests later than this (ms, p99) measured the generator as much as the server */
const MAX_LATE = 1;
/** capacity: closed-loop connections, warm-up seconds, then the median of several short measurements */
const CAPACITY = { connections: 50, warmup: 0.5, seconds: 0.7, times: 3 };
/** closed-loop load on each fresh server before its runs at a rate: a cold process fell behind at 50 % for ~1 s */
const JIT_WARMUP = { connections: 50, seconds: 0.5 };
const started = performance.now();
/** the generator's own code is cold at first: it runs once at 50 % against the first capacity server, unrecorded */
let generatorWarm = false;

console.log(
  `Latency at a fixed rate (open loop), servers on ${canPin ? 'CPU 1, load on CPU 0' : 'any CPU (taskset or a second CPU missing)'}: ` +
    `${frameworks.length} framework(s) x ${rounds} rounds x ${variants.length} variants x ` +
    `${LOADS.map((l) => `${l * 100}%`).join(' and ')} of bare's capacity, ${warmup}s warm-up + ${duration}s each`,
);
const capacityLoader = await startLoader(0);
const openLoop = await startOpenLoopLoader(0);
const table = new ResultTable(
  [
    'framework',
    'load',
    'rate req/s',
    'variant',
    'p50 ms',
    'p99 ms',
    'p99 vs bare',
    'sd of a round',
    'valid rounds',
  ],
  4,
);
const problems = [];
const invalid = [];

/** bare's closed-loop throughput in a fresh process: the median of a few short autocannon runs after a warm-up */
async function capacity(framework) {
  const server = await startServer(framework, 'bare', { cpu: 1 });
  try {
    await capacityLoader.run(server.port, CAPACITY.warmup, CAPACITY.connections);
    const rates = [];
    for (let i = 0; i < CAPACITY.times; i++) {
      const r = await capacityLoader.run(server.port, CAPACITY.seconds, CAPACITY.connections);
      if (r.errors > 0 || r.non2xx > 0 || r.ok2xx === 0) {
        throw new Error(
          `capacity of bare ${framework}: ${r.ok2xx} 2xx, ${r.non2xx} other, ${r.errors} errors`,
        );
      }
      rates.push(r.ok2xx / r.seconds);
    }
    if (!generatorWarm) {
      const rate = Math.round(LOADS[0] * median(rates));
      await openLoop.run(server.port, { rate, warmup: 0.5, seconds: 0.5, connections });
      generatorWarm = true;
    }
    return median(rates);
  } finally {
    await server.stop();
  }
}

try {
  for (const framework of frameworks) {
    /** per load share and variant: the valid runs' results and p99 ratios to bare (same round) */
    const runs = LOADS.map(() => Object.fromEntries(variants.map((v) => [v, []])));
    const ratios = LOADS.map(() => Object.fromEntries(variants.map((v) => [v, []])));
    const rates = [];
    for (let round = 0; round < rounds; round++) {
      const bareCapacity = await capacity(framework);
      rates.push(bareCapacity);
      console.log(`  ${framework} round ${round + 1}/${rounds}: bare's capacity ${fmt(bareCapacity)} req/s`);
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      /** per load share: variant -> this round's result if valid */
      const valid = LOADS.map(() => ({}));
      for (const variant of order) {
        const server = await startServer(framework, variant, { cpu: 1 });
        try {
          await capacityLoader.run(server.port, JIT_WARMUP.seconds, JIT_WARMUP.connections);
          for (const [i, load] of LOADS.entries()) {
            const rate = Math.round(load * bareCapacity);
            const r = await openLoop.run(server.port, { rate, warmup, seconds: duration, connections });
            const name = `${framework}:${variant} ${load * 100}% round ${round + 1}`;
            let verdict = '';
            if (r.errors > 0 || r.non2xx > 0 || r.ok2xx === 0) {
              problems.push(`${name}: ${r.ok2xx} 2xx, ${r.non2xx} other, ${r.errors} failed`);
              verdict = '  FAILED REQUESTS';
            } else if (r.achievedRate < MIN_ACHIEVED * rate) {
              invalid.push(`${name}: answered ${fmt(r.achievedRate)} req/s of ${rate}`);
              verdict = `  INVALID (under ${MIN_ACHIEVED * 100}% of the rate)`;
            } else if (r.lagP99 > MAX_LATE) {
              invalid.push(`${name}: the generator sent ${fmt(r.lagP99, 3)} ms late (p99)`);
              verdict = `  INVALID (generator over ${MAX_LATE} ms late)`;
            } else {
              valid[i][variant] = r;
              runs[i][variant].push(r);
            }
            console.log(
              `    ${variant.padEnd(10)} ${`${load * 100}%`.padStart(4)} ${String(rate).padStart(6)}/s: ` +
                `p50 ${fmt(r.p50, 3)}  p99 ${fmt(r.p99, 3)}  p99.9 ${fmt(r.p999, 3)} ms, ` +
                `answered ${fmt(r.achievedRate)}/s, generator late by ${fmt(r.lagP99, 3)} ms (p99), ` +
                `${r.waited} waited for a connection${verdict}`,
            );
          }
        } finally {
          await server.stop();
        }
      }
      for (const [i, byVariant] of valid.entries()) {
        if (byVariant.bare === undefined) continue;
        for (const [variant, r] of Object.entries(byVariant)) {
          ratios[i][variant].push(r.p99 / byVariant.bare.p99);
        }
      }
    }
    for (const [i, load] of LOADS.entries()) {
      for (const variant of variants) {
        const own = runs[i][variant];
        const ratio = ratios[i][variant];
        table.push([
          framework,
          `${load * 100}%`,
          fmt(load * median(rates)),
          variantLabel(framework, variant),
          fmt(median(own.map((r) => r.p50)), 3),
          fmt(median(own.map((r) => r.p99)), 3),
          variant === 'bare' ? '1' : fmt(median(ratio), 3),
          variant === 'bare' || ratio.length < 2 ? '-' : fmt(sd(ratio), 3),
          `${own.length}/${rounds}`,
        ]);
      }
    }
  }
} finally {
  capacityLoader.stop();
  openLoop.stop();
}
table.print();
console.log(`\ntook ${fmt((performance.now() - started) / 1000)} s`);
for (const p of invalid) console.log('INVALID ' + p);
for (const p of problems) console.log('PROBLEM ' + p);
process.exitCode = problems.length === 0 ? 0 : 1;
