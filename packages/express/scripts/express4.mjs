#!/usr/bin/env node
// Run the Express tests against Express 4, which the workspace cannot install next to its Express 5: pack
// @meterline/core and @meterline/express (built), install them with express@4 into a clean project with a plain
// `npm install`, copy test/majors.test.ts, test/mount-path4.test.ts (with its module) and the conformance suite
// (packages/test-kit, apps/express4.ts) there and run vitest.
// Usage: node scripts/express4.mjs [express version, default 4] [project dir, default a temp dir]
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyWithImports } from '../../../scripts/matrix/project.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const version = process.argv[2] ?? '4';
const project = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'meterline-express4-'));
const npm = (args) =>
  execFileSync('npm', args, { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

for (const p of ['core', 'express']) {
  if (!existsSync(join(root, 'packages', p, 'dist')))
    throw new Error(`@meterline/${p} is not built: npx turbo run build`);
}
rmSync(project, { recursive: true, force: true });
mkdirSync(join(project, 'test', 'apps'), { recursive: true });
mkdirSync(join(project, 'src'));
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify({ name: 'express4-check', private: true, type: 'module' }),
);
for (const p of ['core', 'express']) npm(['pack', '--pack-destination', project, join(root, 'packages', p)]);
const tarballs = readdirSync(project)
  .filter((f) => f.endsWith('.tgz'))
  .map((f) => `./${f}`);
const devVersion = (name) =>
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies[name];
npm([
  'install',
  '--no-audit',
  '--no-fund',
  ...tarballs,
  `express@${version}`,
  `@opentelemetry/api@${devVersion('@opentelemetry/api')}`,
  'undici@^7.16.0',
  `vitest@${devVersion('vitest')}`,
  `parse-prometheus-text-format@${devVersion('parse-prometheus-text-format')}`,
]);

// the tests, as they are in the workspace, with every file they import; the shared test helpers (a private
// package) come as source
const kit = join(root, 'packages', 'test-kit', 'test');
copyWithImports(kit, join(project, 'test'), ['scenarios.ts', 'hostile.ts', 'faults.ts', join('apps', 'express4.ts')]);
cpSync(join(root, 'packages', 'testing', 'src'), join(project, 'testing'), { recursive: true });
const majors = readFileSync(join(root, 'packages', 'express', 'test', 'majors.test.ts'), 'utf8');
writeFileSync(
  join(project, 'test', 'majors.test.ts'),
  majors.replace("from '../src/index.js'", "from '@meterline/express'"),
);
// the unit test of reading Express 4's compiled mount paths, with its (dependency-free) module
cpSync(
  join(root, 'packages', 'express', 'test', 'mount-path4.test.ts'),
  join(project, 'test', 'mount-path4.test.ts'),
);
cpSync(join(root, 'packages', 'express', 'src', 'mount-path4.ts'), join(project, 'src', 'mount-path4.ts'));
writeFileSync(
  join(project, 'test', 'express4.test.ts'),
  `import { conformance } from './scenarios.js';
import { hostile, load } from './hostile.js';
import { faults } from './faults.js';
import { express4App } from './apps/express4.js';

conformance(express4App);
hostile(express4App);
load(express4App);
faults(express4App);
`,
);
writeFileSync(
  join(project, 'vitest.config.ts'),
  `import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@meterline/testing': fileURLToPath(new URL('./testing/index.ts', import.meta.url)) } },
  test: { pool: 'forks', execArgv: ['--expose-gc'], fileParallelism: false, testTimeout: 30_000 },
});
`,
);

const installed = JSON.parse(
  readFileSync(join(project, 'node_modules', 'express', 'package.json'), 'utf8'),
).version;
console.log(`express4: express@${installed} in ${project}`);
const run = spawnSync('npx', ['vitest', 'run'], { cwd: project, stdio: 'inherit' });
process.exitCode = run.status ?? 1;
