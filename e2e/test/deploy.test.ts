// deploy/docker-compose.yml cannot run here (no Docker): check what can be checked without it. Every bind-mounted
// host path exists, the Prometheus config (with the mounted rule files) passes promtool, the Alertmanager config
// passes amtool, and Grafana's provisioning points at the mounted dashboard.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BINARIES } from '../../scripts/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deploy = join(root, 'deploy');
const compose = parse(readFileSync(join(deploy, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image: string; volumes?: string[]; command?: string[]; environment?: Record<string, string> }>;
  volumes: Record<string, unknown>;
};
const tmp = mkdtempSync(join(tmpdir(), 'meterline-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** host path -> container path of a service's bind mounts, `${VAR:-default}` taking the default. */
function mounts(service: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of compose.services[service].volumes ?? []) {
    const [host, container] = v.replace(/\$\{[A-Z_]+:-([^}]+)\}/g, '$1').split(':');
    if (host.startsWith('.') || host.startsWith('/')) out.set(container, resolve(deploy, host));
    else expect(compose.volumes, `named volume ${host}`).toHaveProperty(host);
  }
  return out;
}
/** The host path behind a container path of a service. */
function hostPath(service: string, containerPath: string): string {
  for (const [c, h] of mounts(service)) {
    if (containerPath === c) return h;
    if (containerPath.startsWith(c + '/')) return join(h, containerPath.slice(c.length + 1));
  }
  throw new Error(`${containerPath} is not mounted into ${service}`);
}

describe('deploy/docker-compose.yml', () => {
  it('runs Prometheus, Alertmanager, Pushgateway and Grafana from pinned images', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'grafana', 'prometheus', 'pushgateway']);
    for (const [name, s] of Object.entries(compose.services)) expect(s.image, name).toMatch(/^[a-z/]+:v?\d+\.\d+\.\d+$/);
  });

  it('bind-mounts only paths that exist', () => {
    for (const service of Object.keys(compose.services)) {
      for (const [container, host] of mounts(service)) expect(existsSync(host), `${service}: ${host} -> ${container}`).toBe(true);
    }
  });

  it('gives Prometheus a config promtool accepts, loading the shipped rules', () => {
    const configPath = hostPath('prometheus', '/etc/prometheus/prometheus.yml');
    const config = parse(readFileSync(configPath, 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; honor_labels?: boolean }> };
    expect(config.rule_files.map((f) => f.split('/').pop())).toEqual(['meterline.rules.yml', 'meterline.alerts.yml']);
    // the same config with the rule files where they are on this machine
    const local = { ...config, rule_files: config.rule_files.map((f) => hostPath('prometheus', f)) };
    writeFileSync(join(tmp, 'prometheus.yml'), JSON.stringify(local));
    const r = spawnSync(BINARIES.promtool, ['check', 'config', join(tmp, 'prometheus.yml')], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS: 13 rules found');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(config.scrape_configs.find((s) => s.job_name === 'pushgateway')?.honor_labels).toBe(true);
  });

  it('gives Alertmanager a config amtool accepts', () => {
    const amtool = join(dirname(BINARIES.promtool), 'amtool');
    const r = spawnSync(amtool, ['check-config', hostPath('alertmanager', '/etc/alertmanager/alertmanager.yml')], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it('provisions Grafana with the Prometheus data source and the shipped dashboard', () => {
    const ds = parse(readFileSync(hostPath('grafana', '/etc/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    const providers = parse(readFileSync(hostPath('grafana', '/etc/grafana/provisioning/dashboards/meterline.yml'), 'utf8'));
    const dir = hostPath('grafana', providers.providers[0].options.path);
    const dashboard = JSON.parse(readFileSync(join(dir, 'meterline.json'), 'utf8'));
    expect(dashboard.uid).toBe('meterline-http');
    const home = compose.services.grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(existsSync(hostPath('grafana', home))).toBe(true);
  });
});
