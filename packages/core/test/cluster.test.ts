// node:cluster: N workers on one shared port, the primary calling clusterMetrics(). A known bounded load; every
// scrape of the shared port (whichever worker answers) must give the exact sums.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DURATION, get, scrapeOf, startFixture, type Started } from './cluster-helpers.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cluster-app.mjs');
const WORKERS = 3;
let app: Started | undefined;

afterEach(async () => {
  if (app !== undefined && app.child.exitCode === null) {
    const exited = new Promise((r) => app!.child.once('exit', r));
    app.child.kill('SIGTERM');
    await exited;
  }
  app = undefined;
});

async function start(env: Record<string, string> = {}): Promise<number> {
  app = await startFixture(
    APP,
    { WORKERS: String(WORKERS), ...env },
    (l) => l.filter((x) => 'listening' in x).length >= WORKERS,
  );
  return app.lines[0].listening as number;
}

/** `count` requests, `concurrency` at a time; returns how many of each status the client got. */
async function load(
  port: number,
  count: number,
  concurrency = 4,
  each?: () => Promise<void>,
): Promise<{ ok: number; bad: number }> {
  const got = { ok: 0, bad: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const r = await get(port, i % 5 === 0 ? `/api/orders/${i}/bad` : `/api/orders/${i}`);
        if (r.status === 200) got.ok++;
        else got.bad++;
        if (each) await each();
      }
    }),
  );
  return got;
}

const route = {
  http_request_method: 'GET',
  http_route: '/api/orders/:id',
  url_scheme: 'http',
  network_protocol_version: '1.1',
};

describe('node:cluster with clusterMetrics() in the primary', () => {
  it('serves the exact sums over all workers on the shared port, during and after a bounded load', async () => {
    const port = await start();
    const during: number[] = [];
    let stop = false;
    const scraper = (async () => {
      while (!stop) {
        const s = await scrapeOf(port);
        expect(s.status).toBe(200);
        during.push(s.scrape.totalCount(DURATION, { http_route: '/api/orders/:id' }));
      }
    })();
    const got = await load(port, 300);
    stop = true;
    await scraper;
    expect(got).toEqual({ ok: 240, bad: 60 });
    // never decreasing while the load ran, whichever worker answered
    for (let i = 1; i < during.length; i++) expect(during[i]).toBeGreaterThanOrEqual(during[i - 1]);
    expect(during.length).toBeGreaterThan(3);

    const workersSeen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const { scrape, worker } = await scrapeOf(port);
      workersSeen.add(worker);
      expect(scrape.count(DURATION, { ...route, http_response_status_code: '200' })).toBe(240);
      expect(scrape.count(DURATION, { ...route, http_response_status_code: '500', error_type: '500' })).toBe(
        60,
      );
      // histogram buckets summed: the +Inf bucket is the count
      expect(scrape.bucket(DURATION, { ...route, http_response_status_code: '200' }, '+Inf')).toBe(240);
      // the app's own counter, from every worker
      expect(scrape.value('shop_orders_total', { kind: 'web' })).toBe(300);
      // in-flight summed: only the scrape itself is in flight... and it is not measured
      expect(
        scrape.value('http_server_active_requests', { http_request_method: 'GET', url_scheme: 'http' }),
      ).toBe(0);
      expect(scrape.value('meterline_cluster_workers')).toBe(WORKERS);
      expect(scrape.value('meterline_cluster_collect_timeouts_total')).toBe(0);
    }
    expect(workersSeen.size).toBeGreaterThan(1);
  }, 60_000);

  it('never lets a counter go back when a worker is killed mid-run, and keeps its totals', async () => {
    const port = await start();
    // one scraper, as Prometheus (it never overlaps scrapes of a target), all through the run. A connection the
    // primary hands to a worker in the moment it dies is never answered (Node's cluster does not give it to another
    // worker): that scrape fails, as a Prometheus scrape would (up = 0 once), and gives no sample.
    const seen: number[] = [];
    let failed = 0;
    let stop = false;
    const scraper = (async () => {
      while (!stop) {
        const s = await scrapeOf(port, 2000).catch(() => undefined);
        if (s === undefined || s.status !== 200) failed++;
        else seen.push(s.scrape.totalCount(DURATION, { http_route: '/api/orders/:id' }));
      }
    })();
    const first = await load(port, 120, 3);
    // the primary has every worker's latest totals after a scrape; then one worker dies without warning
    const before = seen.length;
    while (seen.length < before + 2) await new Promise((r) => setTimeout(r, 10));
    const victim = app!.lines.find((l) => 'pid' in l)!.pid as number;
    process.kill(victim, 'SIGKILL');
    // the load resumes once the replacement listens (connections handed to the dead worker would hang)
    const until = Date.now() + 10_000;
    while (app!.lines.filter((l) => 'listening' in l).length < WORKERS + 1 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await load(port, 120, 3);
    const after = seen.length;
    while (seen.length < after + 2) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await scraper;
    const last = await scrapeOf(port);
    seen.push(last.scrape.totalCount(DURATION, { http_route: '/api/orders/:id' }));
    for (let i = 1; i < seen.length; i++) expect(seen[i], `scrape ${i}`).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(seen.length).toBeGreaterThan(10);
    expect(failed).toBeLessThanOrEqual(1);
    expect(first.ok + first.bad + second.ok + second.bad).toBe(240);
    expect(seen.at(-1)).toBe(240);
    expect(last.scrape.value('shop_orders_total', { kind: 'web' })).toBe(240);
    expect(last.scrape.value('meterline_cluster_retired_total')).toBe(1);
    expect(last.scrape.value('meterline_cluster_workers')).toBe(WORKERS);
  }, 60_000);

  it('serves a scrape within the worker timeout when one worker hangs, with its last totals and a timeout counted', async () => {
    const port = await start({ WORKER_TIMEOUT_MS: '400' });
    await load(port, 30);
    await scrapeOf(port); // every worker has reported
    const hung = await get(port, '/hang?ms=4000');
    let result = await scrapeOf(port);
    for (let i = 0; i < 3 && result.worker === hung.worker; i++) result = await scrapeOf(port);
    expect(result.worker).not.toBe(hung.worker);
    expect(result.status).toBe(200);
    // at most the timeout, plus slack for a shared CPU
    expect(result.ms).toBeLessThan(400 + 900);
    expect(result.scrape.totalCount(DURATION, { http_route: '/api/orders/:id' })).toBe(30);
    expect(result.scrape.value('meterline_cluster_collect_timeouts_total')).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('labels gauges per worker when asked', async () => {
    const port = await start({ GAUGES: 'label' });
    await load(port, 12);
    const { scrape } = await scrapeOf(port);
    const conns = scrape.samples('network_server_active_connections');
    expect(new Set(conns.map((s) => s.labels?.worker)).size).toBe(WORKERS);
    expect(scrape.totalCount(DURATION, { http_route: '/api/orders/:id' })).toBe(12);
    // the primary's own metrics are not labelled
    expect(scrape.value('meterline_cluster_workers')).toBe(WORKERS);
  }, 60_000);

  it('aggregates workers that started before the primary called clusterMetrics()', async () => {
    const port = await start({ LATE: '1' });
    await load(port, 15);
    const until = Date.now() + 5000;
    let s = await scrapeOf(port);
    while (s.scrape.value('meterline_cluster_workers') !== WORKERS && Date.now() < until)
      s = await scrapeOf(port);
    expect(s.scrape.value('meterline_cluster_workers')).toBe(WORKERS);
    for (let i = 0; i < 4; i++) {
      expect((await scrapeOf(port)).scrape.totalCount(DURATION, { http_route: '/api/orders/:id' })).toBe(15);
    }
  }, 60_000);
});
