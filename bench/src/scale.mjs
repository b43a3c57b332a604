/**
 * Cost per request and heap at scale: `npm run bench:scale`. Per framework, an app with 1,000 parameterised routes
 * (scale-apps.mjs) as bare, bare again (A/A control) and with meterline, under 2,000 concurrent keep-alive
 * connections per variant whose requests are spread over every route. About 3.5 minutes for the three frameworks
 * with the defaults. bench/README.md explains the method, the flags and how to read the output.
 *
 *   flags: --only express[,koa] --rounds N --duration S (measured, all variants together) --warmup S
 *          --connections N (per variant) --routes N --node-options "<options>" (for every server, e.g. GC sizes)
 *
 * As in cost.mjs, every variant runs at the same moment on CPU 1 (one load process each on CPU 0), with fresh
 * processes and a rotated start order every round, and each variant's CPU per request is divided by bare's of the
 * same round. Unlike cost.mjs the connections stay open from the warm-up to the end: each load process opens its
 * connections once, gently (scale-load.mjs), before the full load starts; the servers' CPU windows and the 2xx counts are taken between marks sent to all processes at
 * once, and at the end every load process drains (each request sent is answered) before it closes its connections.
 * Heap: heapUsed after forced GC (servers run with --expose-gc) before any request, with every connection open at
 * the end of the warm-up, and after the load. meterline's /metrics must then show every route once and count
 * exactly the 2xx the load process received.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fail, list, positive } from './cli.mjs';
import { canPin, nextMessage, spawnNode, startServer } from './processes.mjs';
import { ResultTable, fmt } from './report.mjs';
import { SCALE_VARIANTS } from './scale-apps.mjs';
import { median, sd } from './stats.mjs';
import { FRAMEWORKS, variantLabel } from './variants.mjs';

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '4' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '2000' },
    routes: { type: 'string', default: '1000' },
    'node-options': { type: 'string', default: '' },
  },
});

const rounds = positive('rounds', flags.rounds, { integer: true });
const duration = positive('duration', flags.duration);
const warmup = positive('warmup', flags.warmup);
const connections = positive('connections', flags.connections, { integer: true });
const routes = positive('routes', flags.routes, { integer: true });
const frameworks = flags.only === undefined ? FRAMEWORKS : list('only', flags.only, FRAMEWORKS);
const variants = SCALE_VARIANTS;
const serverOptions = flags['node-options'].split(/\s+/).filter((o) => o !== '');

/** The soft limit on open files, which every child inherits: each server and load process holds `connections`. */
function openFileLimit() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null || m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return Infinity; // not Linux: nothing to check against
  }
}
const limit = openFileLimit();
if (limit < connections + 200) {
  fail(
    `--connections ${connections}: the open-file limit is ${limit}; raise it (ulimit -n ${connections + 1000}) or use fewer`,
  );
}

const MiB = 1024 * 1024;
const DURATION_COUNT = 'http_server_request_duration_seconds_count';

/** A load process (scale-load.mjs) on CPU 0, its connections opened by `start`. */
async function startScaleLoader() {
  const child = spawnNode(0, ['scale-load.mjs']);
  await nextMessage(child, 'ready');
  const ask = async (message, type, timeoutMs = 30_000) => {
    const answer = nextMessage(child, type, timeoutMs);
    child.send(message);
    const m = await answer;
    if (m.error !== undefined) throw new Error(`load process: ${m.error}`);
    return m;
  };
  return {
    start: (port, maxSeconds) => ask({ type: 'start', port, connections, routes, maxSeconds }, 'started'),
    unleash: () => ask('unleash', 'unleashed'),
    mark: () => ask('mark', 'marked'),
    count: () => ask('count', 'count'),
    drain: async () => (await ask('drain', 'drained', 60_000)).result,
    stop() {
      if (child.connected) child.send('exit');
    },
  };
}

const CONNECT_LIMIT_S = 30;

/** Seconds until `loader` had a response on every connection; undefined past the limit. */
async function allConnected(loader) {
  const started = performance.now();
  while (performance.now() - started < CONNECT_LIMIT_S * 1000) {
    if ((await loader.count()).connected >= connections) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** heapUsed after forced GC and the open connections of a server (scale-server.mjs). */
async function heapOf(server) {
  const answer = nextMessage(server.child, 'heap');
  server.child.send('heap');
  return answer;
}

/** heapOf once the server has closed every connection: GC runs again after the closes were handled. */
async function heapWhenClosed(server) {
  const started = performance.now();
  for (;;) {
    const h = await heapOf(server);
    if (h.connections === 0) return heapOf(server);
    if (performance.now() - started > 5000) return h;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** meterline's /metrics: the routes it shows, the requests it counted on them, the size and time of the scrape. */
async function scrape(port) {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const ms = performance.now() - started;
  const counted = new Map();
  let overflow = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(DURATION_COUNT + '{')) continue;
    const route = /http_route="([^"]*)"/.exec(line)?.[1];
    if (route === '__overflow__') overflow = true;
    if (route === undefined || !route.startsWith('/api/r')) continue;
    counted.set(route, (counted.get(route) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  const total = [...counted.values()].reduce((a, b) => a + b, 0);
  return { status: res.status, routes: counted.size, total, overflow, bytes: text.length, ms };
}

console.log(
  `Cost per request and heap at scale: ${routes} routes, ${connections} keep-alive connections per variant, ` +
    `every variant loaded at once on ${canPin ? 'CPU 1 (load on CPU 0)' : 'any CPU (taskset or a second CPU missing)'}: ` +
    `${frameworks.length} framework(s) x ${rounds} rounds x (${warmup}s warm-up + ${duration}s measured)`,
);
const loaders = [];
for (let i = 0; i < variants.length; i++) loaders.push(await startScaleLoader());
const table = new ResultTable([
  'framework',
  'variant',
  'CPU µs/req (shared)',
  'cost vs bare',
  'sd of a round',
  'heap MiB idle',
  'idle − bare',
  `with ${connections} conns`,
  'after load',
  'after − bare',
]);
const problems = [];
const sumOf = (xs) => xs.reduce((a, b) => a + b, 0);

try {
  for (const framework of frameworks) {
    /** per variant: one value per round */
    const cpu = Object.fromEntries(variants.map((v) => [v, []]));
    const ratio = Object.fromEntries(variants.map((v) => [v, []]));
    const heap = Object.fromEntries(variants.map((v) => [v, { idle: [], loaded: [], after: [] }]));
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      const servers = [];
      try {
        // started side by side (building 1,000 Koa routes takes seconds); `servers` keeps the rotated order
        const starting = order.map((variant) =>
          startServer(framework, variant, {
            cpu: 1,
            nodeOptions: ['--expose-gc', ...serverOptions],
            script: 'scale-server.mjs',
            args: [String(routes)],
          }),
        );
        const settled = await Promise.allSettled(starting);
        for (const r of settled) if (r.status === 'fulfilled') servers.push(r.value);
        const failed = settled.find((r) => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        const idle = [];
        for (const s of servers) idle.push(await heapOf(s));
        // every connection opened at one request per second (see scale-load.mjs), then the full load
        await Promise.all(
          servers.map((s, i) => loaders[i].start(s.port, CONNECT_LIMIT_S + warmup + duration + 60)),
        );
        const connectSeconds = await Promise.all(servers.map((_, i) => allConnected(loaders[i])));
        for (const [i, s] of servers.entries()) {
          if (connectSeconds[i] === undefined) {
            problems.push(
              `${framework}:${s.variant} round ${round + 1}: not every connection answered within ${CONNECT_LIMIT_S} s`,
            );
          }
        }
        await Promise.all(servers.map((_, i) => loaders[i].unleash()));
        await new Promise((r) => setTimeout(r, warmup * 1000));
        // taken at the end of the warm-up, every connection open and a request in flight on each
        const loaded = [];
        for (const s of servers) loaded.push(await heapOf(s));
        const marked = await Promise.all(servers.flatMap((s, i) => [s.mark(), loaders[i].mark()]));
        const started = performance.now();
        await new Promise((r) => setTimeout(r, duration * 1000));
        const cpuMicros = await Promise.all(servers.map((s) => s.cpuSinceMark()));
        const window = await Promise.all(servers.map((_, i) => loaders[i].count()));
        const seconds = (performance.now() - started) / 1000;
        const drained = await Promise.all(servers.map((_, i) => loaders[i].drain()));
        // before /metrics is read: what the load left, not what serving a scrape keeps
        const after = [];
        for (const s of servers) after.push(await heapWhenClosed(s));
        const perRequest = [];
        const metricsNotes = [];
        for (const [i, s] of servers.entries()) {
          const w = window[i];
          const d = drained[i];
          const where = `${framework}:${s.variant} round ${round + 1}`;
          if (w.ok2xx === 0 || d.non2xx > 0 || d.errors > 0) {
            problems.push(
              `${where}: ${d.ok2xx} 2xx, ${d.non2xx} other, ${d.errors} errors (${d.timeouts} timeouts)`,
            );
          }
          if (marked[2 * i + 1].connected < connections) {
            problems.push(
              `${where}: only ${marked[2 * i + 1].connected} connections answered before the measurement`,
            );
          }
          if (after[i].connections !== 0) {
            problems.push(`${where}: ${after[i].connections} connections still open 5 s after the load`);
          }
          perRequest[i] = cpuMicros[i] / Math.max(1, w.ok2xx);
          if (s.variant === 'meterline') {
            const m = await scrape(s.port);
            const scraped = await heapOf(s);
            if (m.status !== 200 || m.overflow || m.routes !== routes || m.total !== d.ok2xx) {
              problems.push(
                `${where}: /metrics (${m.status}) shows ${m.routes} of ${routes} routes${m.overflow ? ' and __overflow__' : ''}, ` +
                  `counts ${m.total} requests, the load process got ${d.ok2xx} 2xx`,
              );
            }
            metricsNotes.push(
              `/metrics: ${m.routes} routes, ${m.total} counted, ${d.ok2xx} 2xx received, ` +
                `${(m.bytes / 1024).toFixed(0)} KiB in ${m.ms.toFixed(0)} ms, heap after it ` +
                `${((scraped.heapUsed - after[i].heapUsed) / MiB).toFixed(2)} MiB more`,
            );
          }
        }
        const base = perRequest[servers.findIndex((s) => s.variant === 'bare')];
        const line = [];
        for (const [i, s] of servers.entries()) {
          cpu[s.variant].push(perRequest[i]);
          ratio[s.variant].push(perRequest[i] / base);
          heap[s.variant].idle.push(idle[i].heapUsed);
          heap[s.variant].loaded.push(loaded[i].heapUsed);
          heap[s.variant].after.push(after[i].heapUsed);
          line.push(
            `${s.variant} ${perRequest[i].toFixed(1)} (${(window[i].ok2xx / seconds).toFixed(0)} req/s, ${loaded[i].connections} conns)`,
          );
        }
        const busy = sumOf(cpuMicros) / (seconds * 1e6);
        console.log(
          `  ${framework} round ${round + 1}/${rounds}  (connected in ${connectSeconds.map((c) => fmt(c, 1)).join(', ')} s)  µs/req: ${line.join('  ')}  CPU 1 busy ${(busy * 100).toFixed(0)} %` +
            (metricsNotes.length > 0 ? `\n    ${metricsNotes.join('; ')}` : ''),
        );
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    /** median over rounds of the variant's heap minus bare's of the same round */
    const minusBare = (variant, key) => median(heap[variant][key].map((h, r) => h - heap.bare[key][r])) / MiB;
    for (const variant of variants) {
      const isBare = variant === 'bare';
      const cost = median(ratio[variant]);
      table.push([
        framework,
        variantLabel(framework, variant),
        fmt(median(cpu[variant]), 1),
        isBare ? '1' : fmt(cost, 3),
        isBare || ratio[variant].length < 2 ? '-' : fmt(sd(ratio[variant]), 3),
        fmt(median(heap[variant].idle) / MiB, 1),
        isBare ? '-' : fmt(minusBare(variant, 'idle'), 2),
        fmt(median(heap[variant].loaded) / MiB, 1),
        fmt(median(heap[variant].after) / MiB, 1),
        isBare ? '-' : fmt(minusBare(variant, 'after'), 2),
      ]);
    }
  }
} finally {
  for (const l of loaders) l.stop();
}
table.print();
for (const p of problems) console.log('PROBLEM ' + p);
process.exitCode = problems.length === 0 ? 0 : 1;
