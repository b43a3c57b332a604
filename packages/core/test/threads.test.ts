// worker_threads: instruments recorded in the threads of a CPU pool appear on the main thread's /metrics, summed.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { get, scrapeOf, startFixture, type Started } from './cluster-helpers.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'threads-app.mjs');
let app: Started | undefined;
afterAll(() => {
  app?.child.kill('SIGKILL');
});

describe('worker_threads', () => {
  it("sums the threads' instruments into the main thread's scrape, and keeps an exited thread's totals", async () => {
    app = await startFixture(APP, { THREADS: '3' }, (l) => l.some((x) => 'listening' in x));
    const port = app.lines[0].listening as number;
    expect((await get(port, '/work?n=30')).status).toBe(200);
    let { scrape } = await scrapeOf(port);
    expect(scrape.value('pool_jobs_done_total', { pool: 'cpu' })).toBe(30);
    expect(scrape.count('pool_job_duration_seconds', { pool: 'cpu' })).toBe(30);
    expect(scrape.bucket('pool_job_duration_seconds', { pool: 'cpu' }, '+Inf')).toBe(30);
    expect(scrape.value('pool_busy')).toBe(0);
    // the main thread's own request metrics are there once, not once per thread
    expect(scrape.totalCount('http_server_request_duration_seconds', { http_route: '/work' })).toBe(1);

    expect((await get(port, '/work?n=9')).status).toBe(200);
    ({ scrape } = await scrapeOf(port));
    expect(scrape.value('pool_jobs_done_total', { pool: 'cpu' })).toBe(39);
    // a thread that ends keeps its last reported totals in the sums
    expect((await get(port, '/exit-one')).status).toBe(200);
    expect((await get(port, '/work?n=4')).status).toBe(200);
    ({ scrape } = await scrapeOf(port));
    expect(scrape.value('pool_jobs_done_total', { pool: 'cpu' })).toBe(43);
    expect(scrape.totalCount('http_server_request_duration_seconds', { http_route: '/work' })).toBe(3);
  }, 30_000);
});
