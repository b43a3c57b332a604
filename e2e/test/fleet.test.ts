// deploy/kubernetes and deploy/pm2 cannot run here (no cluster, and Debian's Prometheus is built without Kubernetes
// discovery): check what can be checked. The manifests fit together (selectors, port names, annotations), the
// kubernetes_sd job's relabelling passes promtool and rewrites addresses as intended, and the PM2 scrape config
// passes promtool with the shipped rules and lists one target per instance of the ecosystem file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { BINARIES } from '../../scripts/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const k8s = join(root, 'deploy', 'kubernetes');
const require = createRequire(import.meta.url);
const RULE_FILES = [
  require.resolve('@meterline/rules/rules/meterline.rules.yml'),
  require.resolve('@meterline/rules/rules/meterline.alerts.yml'),
];
const tmp = mkdtempSync(join(tmpdir(), 'meterline-fleet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: any;
};
const docs = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(join(k8s, file), 'utf8')).map((d) => d.toJSON() as Doc);
const [deployment, service] = docs('deployment.yaml');
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function promtoolConfig(config: unknown): { code: number | null; out: string } {
  const file = join(tmp, `prometheus-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, JSON.stringify(config));
  const r = spawnSync(BINARIES.promtool, ['check', 'config', file], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/kubernetes', () => {
  const container = deployment.spec.template.spec.containers[0];
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
  const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;

  it('has a Deployment whose pods carry the scrape annotations of their metrics port', () => {
    expect([deployment.kind, service.kind]).toEqual(['Deployment', 'Service']);
    expect(matches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    const http = container.ports.find((p: { name: string }) => p.name === 'http');
    expect(String(http.containerPort)).toBe(annotations['prometheus.io/port']);
    // the app listens on that port, on the pod's address
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env.PORT).toBe(String(http.containerPort));
    expect(env.HOST).toBe('0.0.0.0');
  });

  it('has a ServiceMonitor that selects the Service and scrapes a port the Service names', () => {
    const [sm] = docs('servicemonitor.yaml');
    expect(sm).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' });
    expect(matches(sm.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    for (const e of sm.spec.endpoints) {
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(e.port);
      expect(e.path).toBe('/metrics');
    }
  });

  it('has a PodMonitor that selects the pods and scrapes a container port they name', () => {
    const [pm] = docs('podmonitor.yaml');
    expect(pm).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor' });
    expect(matches(pm.spec.selector.matchLabels, podLabels)).toBe(true);
    for (const e of pm.spec.podMetricsEndpoints) {
      expect(container.ports.map((p: { name: string }) => p.name)).toContain(e.port);
    }
  });

  it('has a kubernetes_sd_configs job whose relabelling promtool accepts and which targets the annotated port', () => {
    const config = parse(readFileSync(join(k8s, 'prometheus-kubernetes-sd.yml'), 'utf8'));
    const job = config.scrape_configs[0];
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod' }]);
    // Debian's Prometheus has no Kubernetes discovery: the same job with a static target checks everything else
    const { kubernetes_sd_configs: _sd, ...rest } = job;
    const r = promtoolConfig({
      ...config,
      scrape_configs: [{ ...rest, static_configs: [{ targets: ['10.0.0.5:8080'] }] }],
    });
    expect(r.code, r.out).toBe(0);
    // the address rewrite: the pod's IP with the annotated port (Go's RE2 and JavaScript agree on this pattern)
    const rewrite = job.relabel_configs.find(
      (c: { target_label?: string }) => c.target_label === '__address__',
    );
    const re = new RegExp(`^(?:${rewrite.regex})$`);
    expect('10.0.0.5:8080;3000'.replace(re, rewrite.replacement.replace(/\$(\d)/g, '$$$1'))).toBe(
      '10.0.0.5:3000',
    );
    expect('10.0.0.5;3000'.replace(re, rewrite.replacement.replace(/\$(\d)/g, '$$$1'))).toBe('10.0.0.5:3000');
    const keep = job.relabel_configs[0];
    expect(keep).toMatchObject({ action: 'keep', regex: annotations['prometheus.io/scrape'] });
  });
});

describe('deploy/pm2', () => {
  it('scrapes one target per PM2 instance, and promtool accepts the config with the shipped rules', () => {
    const ecosystem = require(join(root, 'deploy', 'pm2', 'ecosystem.config.cjs')) as {
      apps: Array<{ instances: number; exec_mode: string; env: Record<string, string> }>;
    };
    const [app] = ecosystem.apps;
    expect(app.exec_mode).toBe('cluster');
    const config = parse(readFileSync(join(root, 'deploy', 'pm2', 'prometheus.yml'), 'utf8'));
    const targets: string[] = config.scrape_configs[0].static_configs[0].targets;
    const base = Number(app.env.METRICS_PORT_BASE);
    expect(targets).toEqual(Array.from({ length: app.instances }, (_, k) => `127.0.0.1:${base + k}`));
    const r = promtoolConfig({ ...config, rule_files: RULE_FILES });
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });
});
