#!/usr/bin/env node
// @meterline/core next to @opentelemetry/instrumentation-http, on both OpenTelemetry lines, from packed tarballs in
// throwaway projects (a plain `npm install`): the 2.x line (sdk-metrics 2.12, instrumentation-http 0.223) under
// Node 20, the 3.x line (sdk-metrics 3.1, instrumentation-http 0.301) under Node 24. Each runs
// scripts/otel-coexistence/check.mjs.
//
//   node scripts/otel-coexistence.mjs [--line 2|3] [--no-build]
// Node binaries: NODE20 / NODE24, else the running node if it is that major, else the matrix's tools folder.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode } from './matrix/node-tools.mjs';
import { packTarballs } from './matrix/pack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.includes('--line') ? args[args.indexOf('--line') + 1] : undefined;
/** The Node binary of `major`: the one given, this one if it is that major, else the tools folder's (matrix). */
function nodeOf(major, given) {
  if (given) return given;
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  return ensureNode(major);
}

const LINES = [
  {
    line: '2',
    major: 20,
    nodeEnv: 'NODE20',
    deps: {
      '@opentelemetry/api': '~1.9.0',
      '@opentelemetry/sdk-metrics': '2.12.0',
      '@opentelemetry/resources': '2.12.0',
      '@opentelemetry/instrumentation-http': '0.223.0',
    },
  },
  {
    line: '3',
    major: 24,
    nodeEnv: 'NODE24',
    deps: {
      '@opentelemetry/api': '~1.10.0',
      '@opentelemetry/sdk-metrics': '^3.1.0',
      '@opentelemetry/resources': '^3.1.0',
      '@opentelemetry/instrumentation-http': '~0.301.0',
    },
  },
];

const tarballs = packTarballs(root, join(tmpdir(), 'meterline-otel-coexistence', 'tarballs'), ['core'], {
  build: !args.includes('--no-build'),
});
let failed = false;
for (const line of LINES.filter((c) => only === undefined || c.line === only)) {
  const cell = { ...line, node: nodeOf(line.major, process.env[line.nodeEnv]) };
  const dir = join(tmpdir(), 'meterline-otel-coexistence', `otel${cell.line}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pkg = {
    name: `coexistence-otel${cell.line}`,
    private: true,
    type: 'module',
    dependencies: { '@meterline/core': `file:${tarballs.core}`, ...cell.deps },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  copyFileSync(join(root, 'scripts', 'otel-coexistence', 'check.mjs'), join(dir, 'check.mjs'));
  const env = {
    ...process.env,
    PATH: `${dirname(cell.node)}:${process.env.PATH}`,
  };
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tree = execFileSync('npm', ['ls', '--all', '--parseable', '@opentelemetry/sdk-metrics'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    const copies = tree.split('\n').filter((l) => l.endsWith('sdk-metrics'));
    if (copies.length !== 1)
      throw new Error(`expected one @opentelemetry/sdk-metrics, found ${copies.length}`);
    const version = execFileSync(cell.node, ['--version'], { encoding: 'utf8' }).trim();
    if (!version.startsWith(`v${cell.major}.`))
      throw new Error(`${cell.node} is ${version}, not Node ${cell.major}`);
    const out = execFileSync(cell.node, ['check.mjs'], { cwd: dir, env, encoding: 'utf8' });
    const versionIn = (name) =>
      JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
    const sdk = versionIn('@opentelemetry/sdk-metrics');
    const ih = versionIn('@opentelemetry/instrumentation-http');
    console.log(
      `otel ${cell.line}.x (node ${version}, sdk-metrics ${sdk}, instrumentation-http ${ih}): ${out.trim().split('\n').join('; ')}`,
    );
  } catch (err) {
    failed = true;
    console.error(`otel ${cell.line}.x: FAILED\n${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`);
  }
}
process.exit(failed ? 1 : 0);
