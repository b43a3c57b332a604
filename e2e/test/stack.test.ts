// End to end: the demo apps (each in its own process, as deployed), real Prometheus scraping them every second with
// the shipped @meterline/rules, Alertmanager sending to a webhook in this test, and a Pushgateway. A known load is
// driven; everything is asserted through PromQL on Prometheus' HTTP API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@meterline/testing';
import { alertRules, dashboard, dashboardQueries, recordingNames } from '@meterline/rules';
import { BINARIES, INSTALL_HINT, freePort, missingBinaries, startStack, stopProcess, waitReady } from '../../scripts/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const RULE_FILES = [
  require.resolve('@meterline/rules/rules/meterline.rules.yml'),
  require.resolve('@meterline/rules/rules/meterline.alerts.yml'),
];
const APP_NAMES = ['express-demo', 'fastify-demo', 'koa-demo'].filter((n) => existsSync(join(root, 'apps', n, 'src', 'main.ts')));
const FLAKY_RATE = 0.5;
const BATCH_JOB = join(root, 'apps', 'batch-demo', 'src', 'job.ts');
let batchJobRan = false;
const LOAD_MS = 10_000;
const names = recordingNames();

interface Req {
  method: string;
  path: string;
  route?: string;
  body?: string;
}
/** What every demo app gets, per request kind: how many, and the route template it must be counted under. */
const PLAN: Array<[Req, number]> = [
  [{ method: 'GET', path: '/api/users', route: '/api/users' }, 20],
  [{ method: 'GET', path: '/api/users/3', route: '/api/users/:id' }, 10],
  [{ method: 'GET', path: '/api/users/999', route: '/api/users/:id' }, 5],
  [{ method: 'POST', path: '/api/users', route: '/api/users', body: '{"name":"e2e"}' }, 5],
  [{ method: 'GET', path: '/api/orgs/acme/repos', route: '/api/orgs/:org/repos' }, 10],
  [{ method: 'GET', path: '/api/orgs/acme/repos/web', route: '/api/orgs/:org/repos/:repo' }, 5],
  [{ method: 'GET', path: '/api/search?q=user-1', route: '/api/search' }, 5],
  [{ method: 'GET', path: '/api/flaky', route: '/api/flaky' }, 80],
  [{ method: 'GET', path: '/api/slow', route: '/api/slow' }, 24],
  [{ method: 'GET', path: '/no/such/page' }, 5],
];

interface App {
  name: string;
  port: number;
  base: string;
  child: ChildProcess;
  output: string;
  /** `${method} ${route} ${status}` -> requests the client completed */
  sent: Map<string, number>;
  /** /api/flaky during the measured load only */
  flaky: { total: number; errors: number };
  /** /api/flaky requests of the warm-up */
  warmFlaky: number;
}
interface Notification {
  at: number;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

const apps: App[] = [];
const notifications: Notification[] = [];
let receiver: Server | undefined;
let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let rulesDir: string | undefined;
let loadStart = 0;
let loadEnd = 0;
const timings: Record<string, number> = {};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const url = `${stack!.urls.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

async function send(app: App, r: Req): Promise<number> {
  const res = await fetch(app.base + r.path, {
    method: r.method,
    body: r.body,
    headers: r.body ? { 'content-type': 'application/json' } : undefined,
  });
  await res.arrayBuffer();
  const key = `${r.method} ${r.route ?? ''} ${res.status}`;
  app.sent.set(key, (app.sent.get(key) ?? 0) + 1);
  return res.status;
}

/** Deterministic shuffle (LCG), so every run sends the same interleaving. */
function shuffle<T>(items: T[], seed = 42): T[] {
  const a = items.slice();
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

async function countsByJob(): Promise<Map<string, number>> {
  const rows = await query(`sum by (job) (http_server_request_duration_seconds_count)`);
  return new Map(rows.map((r) => [r.metric.job, Number(r.value[1])]));
}
const total = (app: App) => [...app.sent.values()].reduce((a, b) => a + b, 0);

beforeAll(async () => {
  const missing = missingBinaries();
  if (missing.length > 0) throw new Error(`the end-to-end tests need ${missing.join(', ')}: ${INSTALL_HINT}`);
  expect(APP_NAMES).toContain('express-demo');

  // the webhook Alertmanager notifies
  const receiverPort = await freePort();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      notifications.push({ at: Date.now(), alerts: (JSON.parse(body) as Notification).alerts });
      res.end();
    });
  });
  await new Promise<void>((r) => receiver!.listen(receiverPort, '127.0.0.1', r));

  // the demo apps, one process each
  for (const name of APP_NAMES) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps', name, 'src', 'main.ts')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', FLAKY_RATE: String(FLAKY_RATE) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app: App = { name, port, base: `http://127.0.0.1:${port}`, child, output: '', sent: new Map(), flaky: { total: 0, errors: 0 }, warmFlaky: 0 };
    child.stdout!.on('data', (c: Buffer) => (app.output += c));
    child.stderr!.on('data', (c: Buffer) => (app.output += c));
    apps.push(app);
  }
  for (const app of apps) {
    if (!(await waitReady(`${app.base}/health`, 30_000, app.child))) throw new Error(`${app.name} did not start:\n${app.output}`);
  }

  // the shipped rules, plus the shipped alerts again with `for: 1s` (and no traffic floor) under other names
  rulesDir = mkdtempSync(join(tmpdir(), 'meterline-e2e-rules-'));
  const fast = alertRules({ for: '1s', minRate: 0, batchMaxAge: '1h' });
  fast.groups[0].name = 'meterline-e2e-fast-alerts';
  for (const r of fast.groups[0].rules) r.alert += 'Fast';
  const fastFile = join(rulesDir, 'fast-alerts.yml');
  writeFileSync(fastFile, JSON.stringify(fast, null, 2));

  const gonePort = await freePort(); // nothing listens there: a target that is down
  stack = await startStack({
    targets: [...apps.map((a) => ({ job: a.name, targets: [`127.0.0.1:${a.port}`] })), { job: 'gone', targets: [`127.0.0.1:${gonePort}`] }],
    ruleFiles: [...RULE_FILES, fastFile],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    webhookUrl: `http://127.0.0.1:${receiverPort}/alerts`,
    groupWait: '1s',
    groupInterval: '1s',
  });
  const stackReady = Date.now();

  // warm-up: one request of each kind (both outcomes of /api/flaky), so every series exists before the measured
  // load and rate() sees all of the load as increase
  for (const app of apps) {
    for (const [r] of PLAN) await send(app, r);
    const seen = new Set<number>();
    for (let i = 0; i < 60 && seen.size < 2; i++) seen.add(await send(app, PLAN.find(([r]) => r.path === '/api/flaky')![0]));
    app.warmFlaky = [...app.sent].filter(([k]) => k.startsWith('GET /api/flaky ')).reduce((a, [, n]) => a + n, 0);
  }
  await until('the first scrape of the warm-up', 30_000, async () => {
    const c = await countsByJob();
    return apps.every((a) => c.get(a.name) === total(a)) ? true : undefined;
  });
  timings.firstScrapeAfterReadyMs = Date.now() - stackReady;

  // batch jobs push their last success to the Pushgateway: one 2 h ago (stale past 1h), one just now
  const nowS = Math.floor(Date.now() / 1000);
  for (const [job, ts] of [
    ['nightly-report', nowS - 7200],
    ['hourly-sync', nowS],
  ] as const) {
    const res = await fetch(`${stack.urls.pushgateway}/metrics/job/${job}/instance/worker-1`, {
      method: 'PUT',
      body: `# TYPE batch_job_last_success_timestamp_seconds gauge\nbatch_job_last_success_timestamp_seconds ${ts}\n`,
    });
    expect(res.status).toBe(200);
  }

  // the demo batch job (apps/batch-demo) pushes its own metrics through core's Pushgateway client
  if (existsSync(BATCH_JOB)) {
    const job = spawn(process.execPath, ['--import', 'tsx', BATCH_JOB], {
      cwd: root,
      env: { ...process.env, PUSHGATEWAY_URL: stack.urls.pushgateway, JOB_ITEMS: '20' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    job.stdout!.on('data', (c: Buffer) => (out += c));
    job.stderr!.on('data', (c: Buffer) => (out += c));
    const code = await Promise.race([new Promise((r) => job.once('exit', r)), sleep(30_000).then(() => 'timeout')]);
    if (code !== 0) {
      await stopProcess(job);
      throw new Error(`batch-demo job: ${String(code)}\n${out}`);
    }
    batchJobRan = true;
    timings.batchDemoJobPushed = 1;
  }

  // the measured load: the plan for every app, interleaved, evenly spread over LOAD_MS
  const all = shuffle(apps.flatMap((app) => PLAN.flatMap(([r, n]) => Array.from({ length: n }, () => ({ app, r })))));
  // whether warm-up increases alone already made the alert pending (then the timing below is not from zero)
  timings.errorRatioAlertsBeforeLoad = (await query('ALERTS{alertname="MeterlineHighErrorRatioFast"}')).length;
  loadStart = Date.now();
  await Promise.all(
    all.map(async ({ app, r }, i) => {
      await sleep((i * LOAD_MS) / all.length);
      const status = await send(app, r);
      if (r.path === '/api/flaky') {
        app.flaky.total++;
        if (status >= 500) app.flaky.errors++;
      }
    }),
  );
  loadEnd = Date.now();
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => stopProcess(a.child, 5000)));
  await stack?.stop();
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  console.log('e2e timings:', JSON.stringify(timings));
});

describe('the demo apps under real Prometheus', () => {
  it('per-route request counts in Prometheus equal what the client sent', async () => {
    const expected = Object.fromEntries(apps.map((a) => [a.name, Object.fromEntries([...a.sent].sort())]).sort());
    const startWait = Date.now();
    let last: Record<string, Record<string, number>> = {};
    const equal = await until('Prometheus counts to equal the client counts', 30_000, async () => {
      const rows = await query(
        `sum by (job, http_request_method, http_route, http_response_status_code) (http_server_request_duration_seconds_count{job=~"${APP_NAMES.join('|')}"})`,
      );
      const got: Record<string, Record<string, number>> = {};
      for (const r of rows) {
        const m = r.metric;
        const key = `${m.http_request_method} ${m.http_route ?? ''} ${m.http_response_status_code}`;
        (got[m.job] ??= {})[key] = Number(r.value[1]);
      }
      for (const job of Object.keys(got)) got[job] = Object.fromEntries(Object.entries(got[job]).sort());
      last = Object.fromEntries(Object.entries(got).sort());
      return JSON.stringify(last) === JSON.stringify(expected) ? last : undefined;
    }).catch(() => last);
    timings.countsEqualAfterLoadMs = Date.now() - startWait + (startWait - loadEnd);
    expect(equal).toEqual(expected);
    // and the plan really was sent: e.g. 20 + warm-up GET /api/users per app
    for (const a of apps) expect(a.sent.get('GET /api/users 200')).toBe(21);
  });

  it('error ratio per route: exact from the raw counters, and the recording rule matches the load', async () => {
    for (const app of apps) {
      const sentFlaky = [...app.sent].filter(([k]) => k.startsWith('GET /api/flaky '));
      const all = sentFlaky.reduce((a, [, n]) => a + n, 0);
      const errors = sentFlaky.filter(([k]) => k.endsWith(' 500')).reduce((a, [, n]) => a + n, 0);
      const [raw] = await query(
        `sum(http_server_request_duration_seconds_count{job="${app.name}", http_route="/api/flaky", error_type!=""}) / sum(http_server_request_duration_seconds_count{job="${app.name}", http_route="/api/flaky"})`,
      );
      expect(Number(raw.value[1])).toBeCloseTo(errors / all, 12);

      const [rule] = await query(`${names.routeErrorRatio}{job="${app.name}", http_route="/api/flaky"}`);
      // rate() sees the load plus the warm-up requests scraped after their series' first scrape (at most all of them)
      const loadRatio = app.flaky.errors / app.flaky.total;
      const bound = app.warmFlaky / (app.flaky.total + app.warmFlaky) + 0.01;
      expect(Math.abs(Number(rule.value[1]) - loadRatio)).toBeLessThanOrEqual(bound);
      expect(loadRatio).toBeGreaterThan(0.2);
      expect(loadRatio).toBeLessThan(0.8);
      // routes without errors have no ratio at all
      expect(await query(`${names.routeErrorRatio}{job="${app.name}", http_route="/api/users"}`)).toEqual([]);
    }
  });

  it('p50/p95/p99 per route: the slow route breaks 0.5 s, the fast ones do not', async () => {
    for (const app of apps) {
      const q = async (name: string, route: string) => {
        const rows = await query(`${name}{job="${app.name}", http_route="${route}"}`);
        expect(rows, `${name} ${app.name} ${route}`).toHaveLength(1);
        return Number(rows[0].value[1]);
      };
      const slow95 = await q(names.routeP95, '/api/slow');
      expect(slow95).toBeGreaterThan(0.5); // the slow route takes 200-800 ms
      expect(slow95).toBeLessThanOrEqual(1);
      const slow50 = await q(names.routeP50, '/api/slow');
      expect(slow50).toBeGreaterThan(0.25);
      expect(slow50).toBeLessThanOrEqual(0.75);
      expect(await q(names.routeP99, '/api/slow')).toBeGreaterThanOrEqual(slow95);
      expect(await q(names.routeP95, '/api/users')).toBeLessThan(0.25);
    }
  });

  it('every dashboard panel query returns data', async () => {
    const jobs = APP_NAMES.join('|');
    const empty: string[] = [];
    for (const { panel, expr } of dashboardQueries(dashboard())) {
      const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', jobs).replaceAll('$instance', '.*').replaceAll('$route', '.*');
      if ((await query(q)).length === 0) empty.push(`${panel}: ${q}`);
    }
    expect(empty).toEqual([]);
  });

  it('every recording rule has data', async () => {
    const missing: string[] = [];
    for (const name of Object.values(names)) if ((await query(name)).length === 0) missing.push(name);
    expect(missing).toEqual([]);
  });

  it('promtool check metrics is clean on every app', async () => {
    for (const app of apps) {
      const body = await (await fetch(`${app.base}/metrics`)).text();
      expect(body).toContain('http_server_request_duration_seconds_bucket{');
      const r = spawnSync(BINARIES.promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`, app.name).toBe('');
      expect(r.status, app.name).toBe(0);
    }
  });

  it('the error-ratio alert fires and reaches the webhook', async () => {
    const found = await until('the error-ratio notification', 60_000, async () => {
      for (const n of notifications) {
        const a = n.alerts.find((x) => x.labels.alertname === 'MeterlineHighErrorRatioFast' && x.status === 'firing' && x.labels.http_route === '/api/flaky');
        if (a) return { n, a };
      }
      return undefined;
    });
    timings.loadStartToWebhookMs = found.n.at - loadStart;
    expect(found.a.labels.severity).toBe('critical');
    expect(APP_NAMES).toContain(found.a.labels.job);
    expect(found.a.annotations.summary).toMatch(/^\/api\/flaky on \S+-demo fails \d+(\.\d+)?% of requests$/);
    // every app's flaky route gets there
    await until('an error-ratio notification per app', 30_000, async () => {
      const jobs = new Set(
        notifications.flatMap((n) => n.alerts.filter((x) => x.labels.alertname === 'MeterlineHighErrorRatioFast' && x.status === 'firing').map((x) => x.labels.job)),
      );
      return APP_NAMES.every((j) => jobs.has(j)) ? true : undefined;
    });
    // only the flaky route has errors
    const routes = new Set(notifications.flatMap((n) => n.alerts.filter((x) => x.labels.alertname === 'MeterlineHighErrorRatioFast').map((x) => x.labels.http_route)));
    expect([...routes]).toEqual(['/api/flaky']);
  });

  it('the latency, target-down and batch-job alerts fire for exactly what is wrong', async () => {
    type Alert = { labels: Record<string, string>; state: string };
    const firing = async (name: string) => {
      const res = await fetch(`${stack!.urls.prometheus}/api/v1/alerts`);
      const alerts = ((await res.json()) as { data: { alerts: Alert[] } }).data.alerts;
      return alerts.filter((a) => a.labels.alertname === name && a.state === 'firing').map((a) => a.labels);
    };
    const slow = await until('MeterlineHighLatencyFast on /api/slow', 30_000, async () => {
      const f = await firing('MeterlineHighLatencyFast');
      return f.length >= apps.length ? f : undefined;
    });
    expect(new Set(slow.map((l) => l.http_route))).toEqual(new Set(['/api/slow']));
    expect(new Set(slow.map((l) => l.job))).toEqual(new Set(APP_NAMES));

    const down = await until('MeterlineTargetDownFast', 30_000, async () => {
      const f = await firing('MeterlineTargetDownFast');
      return f.length > 0 ? f : undefined;
    });
    expect(down.map((l) => l.job)).toEqual(['gone']);

    // pushed with its own job label (honor_labels), and only the stale one alerts
    const pushedJobs = await until('the pushed batch jobs in Prometheus', 15_000, async () => {
      const rows = await query('batch_job_last_success_timestamp_seconds');
      return rows.length >= (batchJobRan ? 3 : 2) ? rows : undefined;
    });
    expect(pushedJobs.map((r) => r.metric.job).sort()).toEqual(batchJobRan ? ['demo-report', 'hourly-sync', 'nightly-report'] : ['hourly-sync', 'nightly-report']);
    if (batchJobRan) {
      const demo = pushedJobs.find((r) => r.metric.job === 'demo-report')!;
      expect(Math.abs(Number(demo.value[1]) - Date.now() / 1000)).toBeLessThan(120);
    }
    const stale = await until('MeterlineBatchJobStaleFast', 30_000, async () => {
      const f = await firing('MeterlineBatchJobStaleFast');
      return f.length > 0 ? f : undefined;
    });
    expect(stale.map((l) => `${l.job}/${l.instance}`)).toEqual(['nightly-report/worker-1']);

    // traffic did not stop, and the shipped alerts (for: 10m) are not firing yet
    expect(await firing('MeterlineTrafficStoppedFast')).toEqual([]);
    expect(await firing('MeterlineHighErrorRatio')).toEqual([]);
    // the webhook saw these too
    await until('notifications for latency, target down and batch job', 20_000, async () => {
      const names = new Set(notifications.flatMap((n) => n.alerts.map((a) => a.labels.alertname)));
      return ['MeterlineHighLatencyFast', 'MeterlineTargetDownFast', 'MeterlineBatchJobStaleFast'].every((x) => names.has(x)) ? true : undefined;
    });
    timings.loadStartToAllWebhooksMs = Date.now() - loadStart;
  });

  it("meterline's self-metrics reach Prometheus and its own alerts stay quiet on healthy apps", async () => {
    const scrapes = await until('meterline_scrapes_total of every app', 15_000, async () => {
      const rows = await query('meterline_scrapes_total{result="ok"} > 0');
      return APP_NAMES.every((j) => rows.some((r) => r.metric.job === j)) ? rows : undefined;
    });
    expect(scrapes.length).toBeGreaterThanOrEqual(APP_NAMES.length);
    const faults = await query('sum by (job) (meterline_internal_faults_total)');
    expect(Object.fromEntries(faults.filter((r) => APP_NAMES.includes(r.metric.job)).map((r) => [r.metric.job, Number(r.value[1])]))).toEqual(
      Object.fromEntries(APP_NAMES.map((j) => [j, 0])),
    );
    const res = await fetch(`${stack!.urls.prometheus}/api/v1/alerts`);
    const alerts = ((await res.json()) as { data: { alerts: Array<{ labels: Record<string, string> }> } }).data.alerts;
    expect(alerts.filter((a) => a.labels.alertname === 'MeterlineInternalFaultsFast')).toEqual([]);
  });

  it('stack.reload() makes Prometheus load rewritten rule files', async () => {
    const fastFile = join(rulesDir!, 'fast-alerts.yml');
    const current = JSON.parse(readFileSync(fastFile, 'utf8')) as { groups: Array<{ name: string; rules: unknown[] }> };
    current.groups.push({ name: 'meterline-e2e-reload', rules: [{ record: 'e2e:reload_marker:value', expr: 'vector(42)' }] });
    writeFileSync(fastFile, JSON.stringify(current, null, 2));
    await stack!.reload();
    const marker = await until('the recording rule added by the reload', 15_000, async () => {
      const rows = await query('e2e:reload_marker:value');
      return rows.length > 0 ? rows : undefined;
    });
    expect(Number(marker[0].value[1])).toBe(42);
  });
});
