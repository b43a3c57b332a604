// Cost of serving /metrics with N sample lines: `node --expose-gc scrape-cost.mjs <lines> <runs>`.
// Fills meterline's store with request series until the exposition has about N sample lines, serves the shared
// handler on a real loopback server and times full GETs (plain and gzip) from a scraper process on the other CPU,
// the collect+serialise step alone, and the server's longest event-loop block while scraped. Prints one JSON line.
// 100 scrapes of each kind run before the measured ones: a server scraped for a while has its scrape code compiled,
// and until then V8's compiler threads share the server's pinned CPU with the event loop (`perf sched timehist`
// showed them taking it in 4 ms slices during the first scrapes, which the event-loop delay then charged to the scrape).
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMetricsHandler, getMeterline } from '@meterline/core';
import { spawnNode } from './processes.mjs';
import { median } from './stats.mjs';

const target = Number(process.argv[2] ?? 10000);
const runs = Number(process.argv[3] ?? 20);
const runtime = getMeterline();
const store = runtime.store;

function sampleLines(text) {
  let n = 0;
  for (let i = 0; i < text.length;) {
    const end = text.indexOf('\n', i);
    if (text.charCodeAt(i) !== 35 /* # */ && end > i) n++;
    i = end === -1 ? text.length : end + 1;
  }
  return n;
}

// one series = three histograms: duration + request size + response size
const perSeries =
  store.durationBuckets.length +
  3 +
  store.requestSizeBuckets.length +
  3 +
  store.responseSizeBuckets.length +
  3;
let lines = sampleLines(await runtime.scrape());
const statuses = [200, 201, 204, 301, 304, 400, 401, 403, 404, 500];
for (let i = 0; lines < target; i++) {
  const route = store.route(`/api/v${i % 3}/resource${Math.floor(i / 10)}/:id`);
  const series = store.series(route, i % 3, 0, 1, statuses[i % statuses.length], undefined);
  for (let k = 0; k < 5; k++) {
    series.duration.record(0.001 * (k + 1) * (i % 17));
    series.requestSize.record(k * 100);
    series.responseSize.record(k * 1000 + i);
  }
  lines += perSeries;
}
const text = await runtime.scrape();
lines = sampleLines(text);

const handler = createMetricsHandler({}, runtime);
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

/**
 * A scraper process on the other CPU, started and loaded before `measure` runs; `measure(run)` calls `run()` (which
 * tells it to do `count` sequential GETs and resolves to its timings) inside whatever it measures.
 */
async function scrapes(gzip, count, measure) {
  const child = spawnNode(0, ['scrape-client.mjs', String(port), gzip ? '1' : '0', String(count)]);
  const next = () =>
    new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`scraper exited ${code}`)));
    });
  await next(); // 'ready'
  return measure(() => {
    const result = next();
    child.send('go');
    return result;
  });
}

async function timeServe(gzip) {
  await scrapes(gzip, 100, (run) => run());
  return scrapes(gzip, runs, async (run) => {
    globalThis.gc?.();
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const { times, bytes } = await run();
    h.disable();
    return { ms: median(times), maxBlockMs: h.max / 1e6, bytes };
  });
}

const plain = await timeServe(false);
const gzip = await timeServe(true);
const scrapeTimes = [];
for (let i = 0; i < runs; i++) {
  const t = process.hrtime.bigint();
  await runtime.scrapeBuffer(); // what the shared handler sends
  scrapeTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
}
const scrapeMs = median(scrapeTimes);
server.close();
process.stdout.write(
  JSON.stringify({
    lines,
    series: store.seriesCount,
    scrapeMs,
    usPerLine: (scrapeMs * 1000) / lines,
    plainMs: plain.ms,
    plainBytes: plain.bytes,
    plainMaxBlockMs: plain.maxBlockMs,
    gzipMs: gzip.ms,
    gzipBytes: gzip.bytes,
    gzipMaxBlockMs: gzip.maxBlockMs,
  }) + '\n',
);
process.exit(0);
