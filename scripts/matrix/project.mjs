// A matrix cell's project: package.json, the conformance suite copied from packages/test-kit (with every file
// it imports) and the private @meterline/testing helpers, a vitest config and the entry that runs conformance()
// against the cell's app.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

// relative module specifiers in static imports, re-exports and dynamic imports
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Copies `entries` (paths under `fromDir`) and every file they import relatively into `toDir`, same layout. */
export function copyWithImports(fromDir, toDir, entries) {
  const seen = new Set();
  const queue = entries.map((e) => join(fromDir, e));
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const rel = relative(fromDir, file);
    if (rel.startsWith('..'))
      throw new Error(`${file} is outside ${fromDir}: the matrix copies only that folder`);
    mkdirSync(dirname(join(toDir, rel)), { recursive: true });
    copyFileSync(file, join(toDir, rel));
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const target = join(dirname(file), spec);
      // TypeScript sources import their siblings as .js
      const ts = target.replace(/\.js$/, '.ts');
      if (existsSync(ts)) queue.push(ts);
      else if (existsSync(target)) queue.push(target);
      else throw new Error(`${file} imports ${spec}, which does not exist`);
    }
  }
  return [...seen].map((f) => relative(fromDir, f));
}

const entry = (cell) => {
  const appModule = './apps/' + cell.app.replace(/\.ts$/, '.js');
  return `// Written by scripts/matrix.mjs for the matrix cell ${cell.id}.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { conformance, type ConformanceApp } from './scenarios.js';
import * as appModule from '${appModule}';

const apps = Object.values(appModule).filter(
  (v): v is ConformanceApp => typeof (v as ConformanceApp)?.start === 'function' && typeof (v as ConformanceApp)?.differences === 'object',
);
if (apps.length !== 1) throw new Error('apps/${cell.app} must export exactly one ConformanceApp, found ' + apps.length);

describe('matrix cell ${cell.id}', () => {
  it('runs on Node ${cell.node}', () => {
    expect(process.versions.node.split('.')[0]).toBe('${cell.node}');
  });
  it('@meterline/core loads @opentelemetry/sdk-metrics ${cell.otel}.x', () => {
    const fromCore = createRequire(createRequire(import.meta.url).resolve('@meterline/core'));
    const main = fromCore.resolve('@opentelemetry/sdk-metrics');
    const dir = main.slice(0, main.lastIndexOf('@opentelemetry/sdk-metrics/') + '@opentelemetry/sdk-metrics'.length);
    const { version } = JSON.parse(readFileSync(dir + '/package.json', 'utf8'));
    expect(version.split('.')[0]).toBe('${cell.otel}');
  });
});

conformance(apps[0]);
`;
};

const vitestConfig = `// Written by scripts/matrix.mjs: the conformance entry only, @meterline/testing from its copied sources.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@meterline/testing': fileURLToPath(new URL('./testing/index.ts', import.meta.url)) } },
  test: { include: ['test/conformance.test.ts'], pool: 'forks', testTimeout: 30_000, hookTimeout: 30_000 },
});
`;

/**
 * The compiler options packages/test-kit compiles its tests with, resolved through `extends`: the cell's
 * tsconfig.json repeats them, so the test transform (decorators, module kind) is the one the workspace uses.
 */
export function testKitCompilerOptions(root) {
  const out = execFileSync(
    'npx',
    ['tsc', '--showConfig', '-p', join('packages', 'test-kit', 'tsconfig.json')],
    {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out).compilerOptions;
}

/** Lays out a fresh project for `cell` in `dir` (removing what was there); returns the files it copied. */
export function writeCellProject(root, cell, dir, compilerOptions) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pkg = { name: `meterline-matrix-${cell.id}`, private: true, type: 'module' };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  const testKit = join(root, 'packages', 'test-kit', 'test');
  if (!existsSync(join(testKit, 'apps', cell.app))) {
    throw new Error(`matrix cell ${cell.id}: packages/test-kit/test/apps/${cell.app} does not exist`);
  }
  const copied = copyWithImports(testKit, join(dir, 'test'), ['scenarios.ts', join('apps', cell.app)]);
  copyWithImports(join(root, 'packages', 'testing', 'src'), join(dir, 'testing'), ['index.ts']);
  writeFileSync(join(dir, 'test', 'conformance.test.ts'), entry(cell));
  writeFileSync(join(dir, 'vitest.config.mjs'), vitestConfig);
  const tsconfig = { compilerOptions: { ...compilerOptions, types: [] }, include: ['test', 'testing'] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n');
  return copied;
}

/** Versions the cell installs for the suite's own tools, as the workspace declares them (so they never drift). */
export function suiteDependencies(root) {
  const read = (p) => JSON.parse(readFileSync(join(root, p, 'package.json'), 'utf8'));
  const dev = {
    ...read('.').devDependencies,
    ...read('packages/test-kit').devDependencies,
    ...read('packages/testing').devDependencies,
  };
  return ['vitest', 'undici', 'parse-prometheus-text-format'].map((name) => {
    if (!dev[name]) throw new Error(`no devDependency ${name} in the workspace`);
    return `${name}@${dev[name]}`;
  });
}
