import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The CLI writes the rules, then makes a running (real) Prometheus load them: POST /-/reload or SIGHUP.

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, 'bin', 'meterline-rules.mjs');
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const tmp = mkdtempSync(join(tmpdir(), 'meterline-reload-'));
const running: ChildProcess[] = [];

afterAll(async () => {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Prometheus loading `<name>/rules/*.yml` (none yet), with or without the lifecycle API. */
async function startPrometheus(
  name: string,
  lifecycle: boolean,
): Promise<{ url: string; pid: number; rules: string }> {
  const dir = join(tmp, name);
  const rules = join(dir, 'rules');
  mkdirSync(rules, { recursive: true });
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({ global: { evaluation_interval: '1s' }, rule_files: [`${rules}/*.yml`] }),
  );
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(lifecycle ? ['--web.enable-lifecycle'] : []),
    ],
    { stdio: 'ignore' },
  );
  running.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) return { url, pid: child.pid!, rules };
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error('prometheus not ready');
}

/** The alerting rules Prometheus has loaded: name -> expr. */
async function loadedAlerts(url: string): Promise<Record<string, string>> {
  const body = (await (await fetch(`${url}/api/v1/rules?type=alert`)).json()) as {
    data: { groups: Array<{ rules: Array<{ name: string; query: string }> }> };
  };
  return Object.fromEntries(body.data.groups.flatMap((g) => g.rules.map((r) => [r.name, r.query])));
}

const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('meterline-rules --reload / --reload-pid', () => {
  it('POST /-/reload: the running Prometheus loads the rules just written', async () => {
    const prom = await startPrometheus('lifecycle', true);
    expect(await loadedAlerts(prom.url)).toEqual({});
    const r = cli('--out', prom.rules, '--reload', prom.url);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`reloaded Prometheus: ${prom.url}/-/reload`);
    const alerts = await loadedAlerts(prom.url);
    expect(alerts.MeterlinePushFailing).toContain('meterline_push_failures_total');
    expect(alerts.MeterlineHighErrorRatio).toContain('> 0.05');
  }, 30_000);

  it('SIGHUP: new thresholds are loaded without the lifecycle API', async () => {
    const prom = await startPrometheus('signal', false);
    const refused = cli('--out', prom.rules, '--reload', prom.url);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('--web.enable-lifecycle');
    const r = cli('--out', prom.rules, '--error-ratio', '0.02', '--reload-pid', String(prom.pid));
    expect(r.status, r.stderr).toBe(0);
    let alerts: Record<string, string> = {};
    for (let i = 0; i < 100 && !alerts.MeterlineHighErrorRatio; i++) {
      alerts = await loadedAlerts(prom.url);
      await sleep(50);
    }
    expect(alerts.MeterlineHighErrorRatio).toContain('> 0.02');
  }, 30_000);

  it('an unreachable Prometheus or both flags at once fail with a message', () => {
    const down = cli('--out', join(tmp, 'x'), '--reload', 'http://127.0.0.1:1');
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('reloading Prometheus at http://127.0.0.1:1/-/reload failed');
    const both = cli('--out', join(tmp, 'x'), '--reload', 'http://127.0.0.1:1', '--reload-pid', '1');
    expect(both.status).toBe(1);
    expect(both.stderr).toContain('not both');
  });
});
