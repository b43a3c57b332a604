#!/usr/bin/env node
// The tests run against the real Prometheus tools (promtool, Prometheus, Alertmanager, Pushgateway) from
// Debian's packages. Install them when missing and we are root; otherwise say exactly what to run.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const needed = {
  '/usr/bin/promtool': 'prometheus',
  '/usr/bin/prometheus': 'prometheus',
  '/usr/bin/prometheus-alertmanager': 'prometheus-alertmanager',
  '/usr/bin/prometheus-pushgateway': 'prometheus-pushgateway',
  '/usr/bin/prometheus-node-exporter': 'prometheus-node-exporter',
};
const missing = [...new Set(Object.entries(needed).filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  console.log(`Installing the Prometheus tools the tests use: ${missing.join(', ')}`);
  const r = spawnSync('sh', ['-c', command], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  process.exit(0);
}
console.error(`The tests need Debian packages that are missing: ${missing.join(', ')}.\nInstall them with:\n  sudo sh -c '${command}'`);
process.exit(1);
