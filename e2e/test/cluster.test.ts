// End to end, node:cluster: apps/cluster-demo (WORKERS processes on one port, clusterMetrics() in the primary) scraped
// every second by the real Prometheus with the shipped rules, under a known paced load, with one worker killed
// mid-run. Asserted through PromQL: the scraped counter equals the client's count exactly, never resets, and
// increase()/rate() over the load match the client within rate()'s extrapolation.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INSTALL_HINT,
  freePort,
  missingBinaries,
  startStack,
  stopProcess,
  waitReady,
} from '../../scripts/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const RULE_FILES = [
  require.resolve('@meterline/rules/rules/meterline.rules.yml'),
  require.resolve('@meterline/rules/rules/meterline.alerts.yml'),
];
const WORKERS = 3;
const JOB = 'cluster-demo';
/** the measured load: RATE requests per second for LOAD_S seconds, paced */
const RATE = 20;
const LOAD_S = 12;
/** increase()/rate() extrapolate to the window edges: with 1 s scrapes over a 12 s load, well within 15 % */
const TOLERANCE = 0.15;

let app: ChildProcess | undefined;
let output = '';
let base = '';
let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let sent = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function query(
  expr: string,
  time?: number,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const at = time === undefined ? '' : `&time=${time}`;
  const res = await fetch(`${stack!.urls.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}
const scalar = async (expr: string, time?: number): Promise<number | undefined> => {
  const r = await query(expr, time);
  return r.length === 0 ? undefined : Number(r[0].value[1]);
};
const COUNT = `sum(http_server_request_duration_seconds_count{job="${JOB}",http_route="/api/items/:id"})`;

async function send(i: number): Promise<void> {
  const res = await fetch(`${base}/api/items/${i}`);
  await res.arrayBuffer();
  if (res.status === 200) sent++;
}

/** Waits until Prometheus has scraped the client's count exactly (a scrape that started after the last response). */
async function scrapedExactly(ms = 20_000): Promise<number> {
  const until = Date.now() + ms;
  let got: number | undefined;
  while (Date.now() < until) {
    got = await scalar(COUNT);
    if (got === sent) return got;
    await sleep(250);
  }
  throw new Error(`Prometheus saw ${got}, the client sent ${sent}`);
}

/** The cluster workers: children of the primary running the demo (tsx may run an esbuild child next to them). */
const workerPids = (): number[] =>
  spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(app!.pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.includes('cluster-demo'))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((n) => n > 0);

beforeAll(async () => {
  const missing = missingBinaries();
  if (missing.length > 0) throw new Error(`the end-to-end tests need ${missing.join(', ')}: ${INSTALL_HINT}`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps', 'cluster-demo', 'src', 'main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(WORKERS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app.stdout!.on('data', (c: Buffer) => (output += c));
  app.stderr!.on('data', (c: Buffer) => (output += c));
  if (!(await waitReady(`${base}/health`, 30_000, app)))
    throw new Error(`cluster-demo did not start:\n${output}`);
  stack = await startStack({
    targets: [{ job: JOB, targets: [`127.0.0.1:${port}`] }],
    ruleFiles: RULE_FILES,
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
  // warm-up: the series exists before the measured load, so increase() sees all of the load
  for (let i = 0; i < 5; i++) await send(i);
  await scrapedExactly(30_000);
});

afterAll(async () => {
  await stack?.stop();
  await stopProcess(app);
});

describe('node:cluster scraped by the real Prometheus', () => {
  it('sums every worker exactly, never resets when a worker dies, and rate() matches the client', async () => {
    const ready = Date.now() + 10_000;
    while (workerPids().length !== WORKERS && Date.now() < ready) await sleep(50);
    expect(workerPids(), output).toHaveLength(WORKERS);
    const warm = sent;
    const startS = Date.now() / 1000;
    let killed = false;
    for (let tick = 0; tick < LOAD_S * RATE; tick++) {
      const due = startS * 1000 + (tick * 1000) / RATE;
      await sleep(Math.max(0, due - Date.now()));
      await send(tick);
      if (!killed && tick === (LOAD_S * RATE) / 2) {
        // mid-run: once Prometheus has the exact count (the primary holds every worker's latest totals), a worker
        // dies without warning; the load goes on once the replacement listens
        await scrapedExactly();
        const [victim] = workerPids();
        process.kill(victim, 'SIGKILL');
        const until = Date.now() + 10_000;
        while (!(workerPids().length === WORKERS && !workerPids().includes(victim)) && Date.now() < until)
          await sleep(50);
        await waitReady(`${base}/health`, 10_000, app);
        killed = true;
      }
    }
    const endS = Date.now() / 1000;
    expect(killed).toBe(true);
    expect(output).toMatch(/exited \(SIGKILL\); starting another/);
    // every request of the load answered 200 and counted once, summed over all workers, the killed one included
    expect(sent).toBe(warm + LOAD_S * RATE);
    expect(await scrapedExactly()).toBe(sent);
    // the counter as Prometheus stored it at the start and now: exactly the load, across the kill
    const atStart = await scalar(COUNT, startS);
    expect(atStart).toBe(warm);
    expect((await scalar(COUNT))! - atStart!).toBe(LOAD_S * RATE);
    // no counter reset seen by Prometheus in any series of the target through the run
    const resets = await query(`resets(http_server_request_duration_seconds_count{job="${JOB}"}[5m]) > 0`);
    expect(resets).toEqual([]);
    expect(await scalar(`sum(resets(shop_checkouts_total{job="${JOB}"}[5m]))`)).toBeUndefined(); // no checkouts sent
    // increase() and rate() over the load window vs the client's, within rate()'s extrapolation
    const windowS = Math.round(endS - startS);
    const evalAt = startS + windowS;
    const increase = await scalar(
      `sum(increase(http_server_request_duration_seconds_count{job="${JOB}",http_route="/api/items/:id"}[${windowS}s]))`,
      evalAt,
    );
    const rate = await scalar(
      `sum(rate(http_server_request_duration_seconds_count{job="${JOB}",http_route="/api/items/:id"}[${windowS}s]))`,
      evalAt,
    );
    const clientRate = (LOAD_S * RATE) / (endS - startS);
    console.log(
      `cluster e2e: increase ${increase} of ${LOAD_S * RATE} sent, rate ${rate}/s vs client ${clientRate.toFixed(2)}/s`,
    );
    expect(Math.abs(increase! - LOAD_S * RATE) / (LOAD_S * RATE), `increase ${increase}`).toBeLessThan(
      TOLERANCE,
    );
    expect(Math.abs(rate! - clientRate) / clientRate, `rate ${rate} vs client ${clientRate}`).toBeLessThan(
      TOLERANCE,
    );
    // the self-metrics: all workers answering, the dead one's totals retained, no timeouts
    expect(await scalar(`meterline_cluster_workers{job="${JOB}"}`)).toBe(WORKERS);
    expect(await scalar(`meterline_cluster_retired_total{job="${JOB}"}`)).toBe(1);
    expect(await scalar(`meterline_cluster_collect_timeouts_total{job="${JOB}"}`)).toBe(0);
  }, 120_000);
});
