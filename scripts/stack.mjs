// The real Prometheus stack on loopback: Prometheus (scraping the given targets, loading the given rule files),
// Alertmanager (sending to an optional webhook) and a Pushgateway, from Debian's packages, on 127.0.0.1 with all
// state in a temp dir, stopped by PID. Used by `npm run demo` (scripts/demo.mjs) and the end-to-end tests (e2e/).
/* global AbortSignal */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's packages put the binaries (override with PROMETHEUS_BIN, ALERTMANAGER_BIN, PUSHGATEWAY_BIN). */
export const BINARIES = {
  prometheus: process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus',
  alertmanager: process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager',
  pushgateway: process.env.PUSHGATEWAY_BIN ?? '/usr/bin/prometheus-pushgateway',
  promtool: process.env.PROMTOOL_BIN ?? '/usr/bin/promtool',
};
export const INSTALL_HINT = 'sudo apt-get install prometheus prometheus-alertmanager prometheus-pushgateway';

/** The binaries that are missing (empty when the whole stack can run). */
export function missingBinaries() {
  return ['prometheus', 'alertmanager', 'pushgateway'].filter((k) => !existsSync(BINARIES[k])).map((k) => BINARIES[k]);
}

/** A TCP port free on 127.0.0.1 right now (`preferred` if it is free). */
export async function freePort(preferred = 0) {
  const tryListen = (port) =>
    new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const { port: p } = srv.address();
        srv.close(() => resolve(p));
      });
    });
  if (preferred) {
    const p = await tryListen(preferred);
    if (p) return p;
  }
  return tryListen(0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `url` until it answers 200 or `ms` pass; returns whether it did. */
export async function waitReady(url, ms = 15_000, child) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return false;
}

/** Sends SIGTERM to a child by PID, waits up to `ms` for it to exit, then SIGKILL. */
export async function stopProcess(child, ms = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(ms).then(() => false)]);
  if (!done) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(1000)]);
  }
}

function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts Pushgateway, Alertmanager and Prometheus. Options:
 * - targets: [{ job, targets: ['127.0.0.1:3001', ...], metricsPath? }] scraped by Prometheus
 * - ruleFiles: absolute paths of rule files to load
 * - scrapeInterval, evaluationInterval: Prometheus durations (default '5s')
 * - webhookUrl: Alertmanager sends every notification there (send_resolved); none: notifications are dropped
 * - groupWait, groupInterval, repeatInterval: Alertmanager route timing (defaults '1s', '5s', '1h')
 * - groupBy: Alertmanager grouping labels (default ['alertname', 'job', 'http_route'])
 * - ports: { prometheus, alertmanager, pushgateway } preferred ports (a busy one is replaced by a free one)
 * - keepDir: leave the temp dir (configs, data, logs) on stop
 * Returns { dir, urls, ports, processes, reload(), stop() }; reload() makes Prometheus read its config and the rule
 * files again (after you rewrote them), see reloadPrometheus. Throws (after stopping what it started) when one does not
 * become ready, with the tail of its log.
 */
export async function startStack(options = {}) {
  const missing = missingBinaries();
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: ${INSTALL_HINT}`);
  const {
    targets = [],
    ruleFiles = [],
    scrapeInterval = '5s',
    evaluationInterval = '5s',
    webhookUrl,
    groupWait = '1s',
    groupInterval = '5s',
    repeatInterval = '1h',
    groupBy = ['alertname', 'job', 'http_route'],
    ports: preferred = {},
    keepDir = false,
  } = options;
  const dir = mkdtempSync(join(tmpdir(), 'meterline-stack-'));
  const ports = {
    pushgateway: await freePort(preferred.pushgateway),
    alertmanager: await freePort(preferred.alertmanager),
    prometheus: await freePort(preferred.prometheus),
  };
  const urls = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://127.0.0.1:${p}`]));
  const processes = {};

  const alertmanagerConfig = {
    route: { receiver: webhookUrl ? 'webhook' : 'discard', group_by: groupBy, group_wait: groupWait, group_interval: groupInterval, repeat_interval: repeatInterval },
    receivers: webhookUrl ? [{ name: 'webhook', webhook_configs: [{ url: webhookUrl, send_resolved: true }] }] : [{ name: 'discard' }],
  };
  const prometheusConfig = {
    global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: evaluationInterval },
    rule_files: ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${ports.alertmanager}`] }] }] },
    scrape_configs: [
      ...targets.map((t) => ({ job_name: t.job, metrics_path: t.metricsPath ?? '/metrics', static_configs: [{ targets: t.targets }] })),
      // pushed job/instance labels are the batch job's own: keep them
      { job_name: 'pushgateway', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${ports.pushgateway}`] }] },
    ],
  };
  // JSON is YAML: no YAML library needed
  writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(alertmanagerConfig, null, 2));
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(prometheusConfig, null, 2));

  const start = (name, args) => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(BINARIES[name], args, { cwd: dir, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.on('error', () => {});
    processes[name] = child;
    return { child, log };
  };
  const stop = async () => {
    for (const name of ['prometheus', 'alertmanager', 'pushgateway']) await stopProcess(processes[name]);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const ready = async (name, proc) => {
    if (!(await waitReady(`${urls[name]}/-/ready`, 20_000, proc.child))) {
      const log = tail(proc.log);
      await stop();
      throw new Error(`${name} did not become ready on ${urls[name]}:\n${log}`);
    }
  };

  try {
    const pgw = start('pushgateway', [`--web.listen-address=127.0.0.1:${ports.pushgateway}`, `--persistence.file=${join(dir, 'pushgateway.data')}`]);
    const am = start('alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${ports.alertmanager}`,
      '--cluster.listen-address=',
    ]);
    const prom = start('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      '--web.enable-lifecycle',
    ]);
    await ready('pushgateway', pgw);
    await ready('alertmanager', am);
    await ready('prometheus', prom);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, urls, ports, processes, reload: () => reloadPrometheus(urls.prometheus), stop };
}

/**
 * Make a running Prometheus load its configuration and rule files again: POST /-/reload, which needs
 * --web.enable-lifecycle (the stack starts it so) and answers 500 if the new files do not load. Without the
 * lifecycle API, `kill -HUP <pid>` does the same without an answer.
 */
export async function reloadPrometheus(prometheusUrl) {
  const res = await fetch(`${prometheusUrl}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  const body = (await res.text()).trim();
  if (!res.ok) throw new Error(`Prometheus reload at ${prometheusUrl} failed: ${res.status} ${body}`);
}

/** A Prometheus graph page link for `expr` (table and graph, last `range`). */
export function graphLink(prometheusUrl, expr, range = '15m') {
  return `${prometheusUrl}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=${range}`;
}
