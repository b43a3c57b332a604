import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ALERT_GROUP,
  RECORDING_GROUP,
  alertRules,
  dashboard,
  dashboardQueries,
  durationSeconds,
  recordingRules,
  renderFiles,
  resolveRuleOptions,
  type RuleOptions,
} from '../src/index.js';
import { main } from '../src/cli.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const NAME_RE = /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/;
const tmp = mkdtempSync(join(tmpdir(), 'meterline-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function promtool(...args: string[]): { code: number; out: string } {
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const VARIANTS: RuleOptions[] = [
  {},
  { errorRatio: 0.01, p95: 0.25, window: '1h30m', for: '2m', routeLabel: 'route', minRate: 0, batchMaxAge: '2h' },
  { window: '30s', for: '1s', errorMatchers: 'http_response_status_code=~"5.."' },
];

describe('shipped files', () => {
  it('are what the generator makes with the default options', () => {
    const files = renderFiles();
    expect(readFileSync(join(pkg, 'rules', 'meterline.rules.yml'), 'utf8')).toBe(files['meterline.rules.yml']);
    expect(readFileSync(join(pkg, 'rules', 'meterline.alerts.yml'), 'utf8')).toBe(files['meterline.alerts.yml']);
    expect(readFileSync(join(pkg, 'dashboards', 'meterline.json'), 'utf8')).toBe(files['meterline.json']);
  });

  it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', join(pkg, 'rules', 'meterline.rules.yml'), join(pkg, 'rules', 'meterline.alerts.yml'));
    expect(r.out).toContain('SUCCESS: 13 rules found');
    expect(r.out).toContain('SUCCESS: 7 rules found');
    expect(r.code).toBe(0);
  });

  it('pass their promtool unit tests (every alert firing and not firing)', () => {
    const tests = readdirSync(join(pkg, 'rules', 'tests')).filter((f) => f.endsWith('.yml'));
    expect(tests.sort()).toEqual(['alerts.test.yml', 'recording.test.yml']);
    for (const t of tests) {
      const r = promtool('test', 'rules', join(pkg, 'rules', 'tests', t));
      expect(r.out, t).toContain('SUCCESS');
      expect(r.code, `${t}: ${r.out}`).toBe(0);
    }
  });

  it('unit tests cover every alert, each firing and not firing', () => {
    const text = readFileSync(join(pkg, 'rules', 'tests', 'alerts.test.yml'), 'utf8');
    const doc = parse(text) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alertRules().groups[0].rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${rule.alert} firing`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${rule.alert} not firing`).toBe(true);
    }
  });

  it('unit tests fail when a threshold changes (they test the thresholds)', async () => {
    const dir = join(tmp, 'stricter');
    expect(await main(['--error-ratio', '0.03', '--out', dir], { log() {}, error() {} })).toBe(0);
    cpSync(join(pkg, 'rules', 'tests'), join(dir, 'tests'), { recursive: true });
    const r = promtool('test', 'rules', join(dir, 'tests', 'alerts.test.yml'));
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('http_route="/fine"');
  });
});

describe('recording rules', () => {
  it.each(VARIANTS)('follow level:metric:operations naming (%o)', (opts) => {
    const names = recordingRules(opts).groups.flatMap((g) => g.rules.map((r) => r.record));
    expect(names.length).toBe(13);
    for (const name of names) expect(name).toMatch(NAME_RE);
    expect(new Set(names).size).toBe(names.length);
  });

  it('name the window and keep the scraped metric name', () => {
    const names = recordingRules({ window: '1h30m' }).groups[0].rules.map((r) => r.record);
    expect(names).toContain('job_route:http_server_request_duration_seconds_count:rate1h30m');
    expect(names).toContain('job_route:http_server_request_errors_per_requests:ratio_rate1h30m');
    expect(names).toContain('job_route:http_server_request_duration_seconds:p95_rate1h30m');
    expect(names).toContain('job_instance_direction:network_server_io_bytes:rate1h30m');
    expect(recordingRules().groups[0].name).toBe(RECORDING_GROUP);
    expect(alertRules().groups[0].name).toBe(ALERT_GROUP);
  });

  it('aggregate by the configured route label', () => {
    const text = JSON.stringify(recordingRules({ routeLabel: 'route' }));
    expect(text).toContain('sum by (job, instance, route)');
    expect(text).not.toContain('http_route');
  });
});

describe('alerts', () => {
  it('carry the thresholds and durations asked for', () => {
    const rules = alertRules({ errorRatio: 0.02, p95: 0.3, for: '3m', minRate: 0, batchMaxAge: '90m' }).groups[0].rules;
    const by = Object.fromEntries(rules.map((r) => [r.alert, r]));
    expect(Object.keys(by)).toEqual(['MeterlineHighErrorRatio', 'MeterlineHighLatency', 'MeterlineTrafficStopped', 'MeterlineTargetDown', 'MeterlineBatchJobStale', 'MeterlineInternalFaults', 'MeterlinePushFailing']);
    expect(by.MeterlineHighErrorRatio.expr).toBe('job_route:http_server_request_errors_per_requests:ratio_rate5m > 0.02');
    expect(by.MeterlineHighLatency.expr).toBe('job_route:http_server_request_duration_seconds:p95_rate5m > 0.3');
    expect(by.MeterlineBatchJobStale.expr).toBe('time() - batch_job_last_success_timestamp_seconds > 5400');
    expect(by.MeterlineTargetDown.for).toBe('3m');
    expect(by.MeterlineHighErrorRatio.annotations.description).toContain('objective of 2% for 3m');
    expect(alertRules().groups[0].rules[0].expr).toContain('>= 0.1');
    // meterline's own metrics, as core exposes them
    expect(by.MeterlineInternalFaults.expr).toBe('sum by (job, instance, component) (increase(meterline_internal_faults_total[5m])) > 0');
    expect(by.MeterlineInternalFaults.for).toBeUndefined();
    expect(by.MeterlinePushFailing.expr).toBe('sum by (job, instance) (increase(meterline_push_failures_total[5m])) > 0');
    expect(by.MeterlinePushFailing.for).toBe('3m');
  });
});

describe('options', () => {
  it.each([
    [{ errorRatio: 0 }, 'errorRatio'],
    [{ errorRatio: 1.5 }, 'errorRatio'],
    [{ errorRatio: Number.NaN }, 'errorRatio'],
    [{ p95: -1 }, 'p95'],
    [{ minRate: -0.1 }, 'minRate'],
    [{ window: '5' }, 'window'],
    [{ window: '0m' }, 'window'],
    [{ for: 'ten minutes' }, 'for'],
    [{ batchMaxAge: '1 day' }, 'batchMaxAge'],
    [{ routeLabel: 'http-route' }, 'routeLabel'],
    [{ routeLabel: '__name__' }, 'routeLabel'],
    [{ errorMatchers: '{error_type!=""}' }, 'errorMatchers'],
    [{ nope: 1 } as RuleOptions, 'nope'],
  ])('%o throws naming the option', (opts, name) => {
    expect(() => resolveRuleOptions(opts)).toThrow(new RegExp(`"${name}"`));
  });

  it('parses Prometheus durations', () => {
    expect(durationSeconds('5m')).toBe(300);
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('26h')).toBe(93600);
    expect(durationSeconds('1d')).toBe(86400);
    expect(durationSeconds('500ms')).toBe(0.5);
  });
});

describe('dashboard', () => {
  const d = dashboard();
  it('has job, instance and route variables used by every query', () => {
    const names = d.templating.list.map((v) => v.name);
    expect(names).toEqual(['datasource', 'job', 'instance', 'route']);
    const queries = dashboardQueries(d);
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const q of queries) {
      expect(q.expr, q.panel).toContain('job=~"$job"');
      expect(q.expr, q.panel).toContain('instance=~"$instance"');
    }
  });

  it('covers rate, errors, p50/p95/p99, in-flight, body sizes, network bytes and connections', () => {
    const all = dashboardQueries(d).map((q) => q.expr).join('\n');
    for (const needle of [
      'rate(http_server_request_duration_seconds_count{',
      'error_type!="", error_type!="aborted"',
      'histogram_quantile(0.5, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket',
      'histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket',
      'histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket',
      'http_server_active_requests{',
      'http_server_request_body_size_bytes_sum',
      'http_server_response_body_size_bytes_bucket',
      'network_server_io_bytes_total{',
      'network_server_active_connections{',
      'network_server_connection_duration_seconds_bucket',
    ]) {
      expect(all).toContain(needle);
    }
  });

  it('lays out panels without overlap on a 24-column grid', () => {
    const cells = new Set<string>();
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const k = `${x},${y}`;
          expect(cells.has(k), `${p.title} overlaps at ${k}`).toBe(false);
          cells.add(k);
        }
      }
    }
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
  });

  it('uses the configured route label', () => {
    const text = JSON.stringify(dashboard({ routeLabel: 'route' }));
    expect(text).toContain('route=~\\"$route\\"');
    expect(text).not.toContain('http_route');
  });
});

describe('CLI', () => {
  const bin = join(pkg, 'bin', 'meterline-rules.mjs');
  it('writes rules promtool accepts, with the thresholds given', () => {
    const out = join(tmp, 'cli');
    const stdout = execFileSync(process.execPath, [bin, '--error-ratio', '0.02', '--p95', '0.25', '--window', '10m', '--for', '5m', '--route-label', 'route', '--out', out], { encoding: 'utf8' });
    expect(stdout).toContain('meterline.rules.yml');
    expect(readdirSync(out).sort()).toEqual(['meterline.alerts.yml', 'meterline.json', 'meterline.rules.yml']);
    const alerts = parse(readFileSync(join(out, 'meterline.alerts.yml'), 'utf8'));
    expect(alerts.groups[0].rules[0].expr).toContain('job_route:http_server_request_errors_per_requests:ratio_rate10m > 0.02');
    expect(alerts.groups[0].rules[0].for).toBe('5m');
    const r = promtool('check', 'rules', join(out, 'meterline.rules.yml'), join(out, 'meterline.alerts.yml'));
    expect(r.code, r.out).toBe(0);
  });

  it('exits non-zero with a message naming the bad flag or option', () => {
    const bad = spawnSync(process.execPath, [bin, '--p95', 'fast', '--out', join(tmp, 'x')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--p95');
    const unknown = spawnSync(process.execPath, [bin, '--bogus'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--bogus');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--error-ratio');
  });
});
