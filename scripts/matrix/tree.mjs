// What a clean install put on disk: every package under node_modules, nested copies included, by name.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Map of package name -> [{ version, dir }] for every copy under `dir`/node_modules. */
export function installedPackages(dir) {
  const found = new Map();
  const visit = (modules) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
      if (entry.name.startsWith('@')) {
        for (const scoped of readdirSync(join(modules, entry.name), { withFileTypes: true })) {
          if (scoped.isDirectory()) visitPackage(join(modules, entry.name, scoped.name));
        }
      } else visitPackage(join(modules, entry.name));
    }
  };
  const visitPackage = (pkgDir) => {
    const manifest = join(pkgDir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8'));
      if (!found.has(name)) found.set(name, []);
      found.get(name).push({ version, dir: pkgDir });
    }
    visit(join(pkgDir, 'node_modules'));
  };
  visit(join(dir, 'node_modules'));
  return found;
}

const major = (version) => Number(version.split('.')[0]);

/**
 * Checks a cell's tree: exactly one copy of each package that must be shared (two copies of sdk-metrics or the
 * api split the meter provider), and the OpenTelemetry SDK packages from the expected line. Returns problems.
 */
export function checkTree(packages, { otel }) {
  const problems = [];
  const one = (name) => {
    const copies = packages.get(name) ?? [];
    if (copies.length !== 1) {
      problems.push(
        `${copies.length} copies of ${name}: ${copies.map((c) => `${c.version} (${c.dir})`).join(', ')}`,
      );
    }
    return copies[0];
  };
  one('@meterline/core');
  one('@opentelemetry/api');
  for (const name of ['@opentelemetry/sdk-metrics', '@opentelemetry/resources']) {
    const copy = one(name);
    if (copy && major(copy.version) !== otel) problems.push(`${name} ${copy.version}, expected ${otel}.x`);
  }
  return problems;
}
