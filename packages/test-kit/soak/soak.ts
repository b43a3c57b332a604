/**
 * Bounded soak: steady mixed load with periodic scrapes against one adapter, in this process. Fails (exit 1) if
 * the heap grows beyond a bound after warm-up, the exposition or its series grow after warm-up, or in-flight does not
 * return to 0. `npm run soak -w @meterline/test-kit -- --seconds 60` (CI runs it shorter).
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { scrape } from '@meterline/testing';
import type { ConformanceApp } from '../test/scenarios.js';

const { values } = parseArgs({
  options: {
    framework: { type: 'string', default: 'express' },
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '50' },
    'heap-bound-mb': { type: 'string', default: '12' },
  },
});
const seconds = Number(values.seconds);
const heapBound = Number(values['heap-bound-mb']) * 1024 * 1024;

async function load(name: string): Promise<ConformanceApp> {
  if (name === 'express') return (await import('../test/apps/express.js')).expressApp;
  if (name === 'fastify') return (await import('../test/apps/fastify.js')).fastifyApp;
  if (name === 'koa') return (await import('../test/apps/koa.js')).koaApp;
  throw new Error(`--framework must be express, fastify or koa (got ${JSON.stringify(name)})`);
}

function heap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const app = await load(values.framework!);
const running = await app.start();
const base = `http://127.0.0.1:${running.port}`;
const pool = new Pool(base, { connections: Number(values.connections) });
const paths = ['/static', '/items/1', '/items/2', '/fixed', '/throw-async', '/status/503', '/status/201'];
let sent = 0;
let errors = 0;
let stop = false;
const workers = Array.from({ length: Number(values.connections) }, async (_, w) => {
  let i = w;
  while (!stop) {
    const path = i % 97 === 0 ? `/random/${Math.random().toString(36).slice(2)}` : paths[i % paths.length];
    i++;
    try {
      const r = await pool.request({ path, method: 'GET' });
      await r.body.dump();
      sent++;
    } catch {
      errors++;
    }
  }
});

const samples: Array<{ t: number; heap: number; scrapeMs: number; series: number; lines: number }> = [];
const started = Date.now();
while (Date.now() - started < seconds * 1000) {
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = performance.now();
  const r = await scrape(base + '/metrics');
  const scrapeMs = performance.now() - t0;
  samples.push({
    t: Math.round((Date.now() - started) / 1000),
    heap: heap(),
    scrapeMs,
    series: r.scrape.seriesCount('http_server_request_duration_seconds'),
    lines: r.scrape.lines,
  });
}
stop = true;
await Promise.all(workers);
await pool.close();
await new Promise((r) => setTimeout(r, 200));
const final = (await scrape(base + '/metrics')).scrape;
const inflight = final.samples('http_server_active_requests').reduce((a, m) => a + Number(m.value), 0);
await running.close();

const quarter = Math.max(1, Math.floor(samples.length / 4));
const warm = samples.slice(quarter);
const heapGrowth = warm[warm.length - 1].heap - warm[0].heap;
const early = median(samples.slice(0, quarter + 1).map((s) => s.scrapeMs));
const late = median(samples.slice(-quarter - 1).map((s) => s.scrapeMs));
const seriesGrowth = warm[warm.length - 1].series - warm[0].series;
console.log(
  `soak ${app.name}: ${seconds}s, ${sent} requests (${Math.round(sent / seconds)}/s), ${errors} client errors, ` +
    `${samples.length} scrapes of ~${samples[samples.length - 1].lines} lines; heap after warm-up ` +
    `${(warm[0].heap / 1048576).toFixed(1)} -> ${(warm[warm.length - 1].heap / 1048576).toFixed(1)} MB ` +
    `(${(heapGrowth / 1048576).toFixed(2)} MB); scrape median ${early.toFixed(1)} ms early, ${late.toFixed(1)} ms late; ` +
    `series ${warm[0].series} -> ${warm[warm.length - 1].series}; in-flight at end ${inflight}`,
);
const failures: string[] = [];
if (heapGrowth > heapBound) failures.push(`heap grew ${(heapGrowth / 1048576).toFixed(1)} MB after warm-up (bound ${values['heap-bound-mb']} MB)`);
// scrape time is reported, not judged (a timed assertion fails on a busy machine): what makes a scrape slower
// over time is a growing exposition, and that is checked exactly
const linesGrowth = warm[warm.length - 1].lines - warm[0].lines;
if (linesGrowth !== 0) failures.push(`the exposition grew by ${linesGrowth} lines after warm-up`);
if (seriesGrowth !== 0) failures.push(`series grew by ${seriesGrowth} after warm-up`);
if (inflight !== 0) failures.push(`in-flight is ${inflight} after the load`);
if (sent < seconds * 100) failures.push(`only ${sent} requests sent`);
if (failures.length > 0) {
  console.error(`soak ${app.name} FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
process.exit(0);
