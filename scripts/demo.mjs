#!/usr/bin/env node
// `npm run demo`: start the demo services (Express, Fastify, Koa) on 127.0.0.1, drive traffic at them and print
// where to look. When Prometheus, Alertmanager and the Pushgateway are installed (Debian's packages), also start
// them on 127.0.0.1 with @meterline/rules loaded, state in a temp dir. Ctrl-C stops everything (by PID).
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { INSTALL_HINT, freePort, graphLink, missingBinaries, startStack, stopProcess, waitReady } from './stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const rulesDir = join(root, 'packages', 'rules', 'rules');
const apps = [
  { name: 'express-demo', port: 3001 },
  { name: 'fastify-demo', port: 3002 },
  { name: 'koa-demo', port: 3003 },
];
const children = [];
let stack;
let receiver;
let rulesWatcher;
let stopping = false;

function start(cmd, args, env, label) {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${label} exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
}

async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.all(children.map((c) => stopProcess(c, 3000)));
  rulesWatcher?.close();
  if (stack) await stack.stop();
  receiver?.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

const running = [];
for (const app of apps) {
  const main = join(root, 'apps', app.name, 'src', 'main.ts');
  if (!existsSync(main)) continue;
  start(tsx, [main], { PORT: String(app.port) }, app.name);
  running.push(app);
}
const bases = running.map((a) => `http://127.0.0.1:${a.port}`);
// the offline worker of apps/batch-demo: scraped like a service, no HTTP routes to drive
const workerMain = join(root, 'apps', 'batch-demo', 'src', 'worker.ts');
const jobMain = join(root, 'apps', 'batch-demo', 'src', 'job.ts');
const worker = existsSync(workerMain) ? { name: 'batch-demo-worker', port: 3004 } : undefined;
if (worker) start(tsx, [workerMain], { PORT: String(worker.port) }, worker.name);
for (const base of bases) {
  if (!(await waitReady(base + '/health', 30_000))) console.error(`${base} did not come up`);
}
start(process.execPath, [join(root, 'scripts', 'traffic.mjs'), ...bases, '--rps', '30'], {}, 'traffic');

// The real stack, when installed.
const missing = missingBinaries();
if (missing.length === 0) {
  // Alertmanager notifications are printed here.
  const receiverPort = await freePort();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.end();
      try {
        for (const a of JSON.parse(body).alerts ?? []) {
          const where = [a.labels.job, a.labels.http_route, a.labels.instance].filter(Boolean).join(' ');
          console.log(`alertmanager: ${a.status.toUpperCase()} ${a.labels.alertname} (${where}): ${a.annotations?.summary ?? ''}`);
        }
      } catch {
        console.log(`alertmanager: ${body}`);
      }
    });
  });
  await new Promise((r) => receiver.listen(receiverPort, '127.0.0.1', r));
  try {
    stack = await startStack({
      targets: [...running, ...(worker ? [worker] : [])].map((a) => ({ job: a.name, targets: [`127.0.0.1:${a.port}`] })),
      ruleFiles: [join(rulesDir, 'meterline.rules.yml'), join(rulesDir, 'meterline.alerts.yml')],
      scrapeInterval: '5s',
      evaluationInterval: '5s',
      webhookUrl: `http://127.0.0.1:${receiverPort}/alerts`,
      groupWait: '10s',
      groupInterval: '1m',
      ports: { prometheus: 9090, alertmanager: 9093, pushgateway: 9091 },
    });
  } catch (err) {
    console.error(`Prometheus stack did not start: ${err.message}`);
  }
  if (stack) {
    // rules regenerated while the demo runs (npm run generate -w @meterline/rules) are loaded at once
    let pending;
    rulesWatcher = watch(rulesDir, () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        stack.reload().then(
          () => console.log('rules changed: Prometheus reloaded them'),
          (err) => console.error(err.message),
        );
      }, 300);
    });
  }
}

// the batch job of apps/batch-demo pushes to the Pushgateway: now and every minute
if (stack && existsSync(jobMain)) {
  const runJob = () => {
    if (stopping) return;
    const job = spawn(tsx, [jobMain], { cwd: root, env: { ...process.env, PUSHGATEWAY_URL: stack.urls.pushgateway }, stdio: 'ignore' });
    children.push(job);
    job.on('exit', (code) => {
      children.splice(children.indexOf(job), 1);
      if (code !== 0 && !stopping) console.error(`batch-demo job exited with ${code}`);
    });
  };
  runJob();
  setInterval(runJob, 60_000).unref();
}

console.log('\nmeterline demo running (Ctrl-C to stop):');
for (const app of running) {
  console.log(
    `  ${app.name.padEnd(13)} http://127.0.0.1:${app.port}   metrics: http://127.0.0.1:${app.port}/metrics   ` +
      `live page: http://127.0.0.1:${app.port}/metrics/ui`,
  );
}
if (worker) console.log(`  ${worker.name.padEnd(13)} metrics: http://127.0.0.1:${worker.port}/metrics (offline worker)`);
if (stack) {
  const p = stack.urls.prometheus;
  console.log(`\n  Prometheus    ${p}   (targets: ${p}/targets, alerts: ${p}/alerts, rules: ${p}/rules)`);
  console.log(`  Alertmanager  ${stack.urls.alertmanager}   (notifications are printed here)`);
  console.log(`  Pushgateway   ${stack.urls.pushgateway}   (scraped with honor_labels; the batch-demo job pushes every minute)`);
  console.log(`  rules from ${rulesDir}: reloaded when they change (POST ${p}/-/reload)`);
  console.log(`  state in ${stack.dir} (removed on exit)`);
  console.log('\nRED per route (recording rules from @meterline/rules; rate5m needs a few minutes to settle):');
  const queries = [
    ['Rate      ', 'job_route:http_server_request_duration_seconds_count:rate5m'],
    ['Errors    ', 'job_route:http_server_request_errors_per_requests:ratio_rate5m'],
    ['Duration  ', 'job_route:http_server_request_duration_seconds:p95_rate5m'],
    ['In flight ', 'job_instance:http_server_active_requests:sum'],
    ['Network   ', 'job_instance_direction:network_server_io_bytes:rate5m'],
    ['Raw rate  ', 'sum by (job, http_route) (rate(http_server_request_duration_seconds_count[1m]))'],
    ['Batch age ', 'time() - batch_job_last_success_timestamp_seconds'],
  ];
  for (const [label, expr] of queries) console.log(`  ${label} ${graphLink(p, expr)}`);
  console.log('\nAlerts fire after their `for` (10m): /api/slow breaks the 0.5 s p95 objective, /api/flaky the 5% error ratio.');
} else if (missing.length > 0) {
  console.log(`\nAdd the real Prometheus stack (Prometheus, Alertmanager, Pushgateway with the meterline rules):\n  ${INSTALL_HINT}\nthen run npm run demo again.`);
}
// @meterline/cli: the same RED per route in a terminal, from the three services' /metrics
const targets = running.map((a) => `127.0.0.1:${a.port}`).join(' ');
console.log(`\nRED per route in this terminal (another one):  npx meterline top ${targets}`);
console.log(`  (outside this repository: npx @meterline/cli top ${targets}; --once prints one table and exits)`);
console.log('\nTry:  curl -s http://127.0.0.1:3001/metrics | grep http_server_request_duration_seconds_count\n');
