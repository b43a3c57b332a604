#!/usr/bin/env node
// The support matrix: for each cell of scripts/matrix/cells.mjs, a clean project in /tmp/meterline-matrix/<cell>
// installs the packed tarballs with a plain `npm install` under that cell's Node, must hold exactly one copy of
// @opentelemetry/sdk-metrics from the expected line, and must pass conformance() of packages/test-kit.
//
//   node scripts/matrix.mjs                 every cell
//   node scripts/matrix.mjs --cell koa3-node20 --cell express5-node24
//   node scripts/matrix.mjs --list          the cells, one a line
//   --no-build                              pack what is in packages/*/dist without running the build first
//
// Node binaries come from the tools folder ($METERLINE_TOOLS, else ~/.cache/meterline-tools), installed there
// from the npm registry when missing. Cells run one after another; one line per cell, exit 1 if any failed.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cells } from './matrix/cells.mjs';
import { cellEnv } from './matrix/env.mjs';
import { ensureNode } from './matrix/node-tools.mjs';
import { packTarballs } from './matrix/pack.mjs';
import { suiteDependencies, testKitCompilerOptions, writeCellProject } from './matrix/project.mjs';
import { checkTree, installedPackages } from './matrix/tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(tmpdir(), 'meterline-matrix');

function parseArgs(argv) {
  const opts = { cells: [], list: false, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--list') opts.list = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--cell' || a.startsWith('--cell=')) {
      const id = a === '--cell' ? argv[++i] : a.slice('--cell='.length);
      if (!cells.some((c) => c.id === id)) {
        throw new Error(`--cell ${id ?? ''}: no such cell (known: ${cells.map((c) => c.id).join(', ')})`);
      }
      opts.cells.push(id);
    } else throw new Error(`unknown option ${a} (use --cell <id>, --list, --no-build)`);
  }
  return opts;
}

/** Runs a command to completion, its output into `log`; resolves to the exit code and the output. */
function run(cmd, args, { cwd, env, log }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => (out += String(err)));
    child.on('close', (code) => {
      writeFileSync(log, out, { flag: 'a' });
      resolve({ code: code ?? 1, out });
    });
  });
}

const seconds = (since) => ((Date.now() - since) / 1000).toFixed(0);
const versionOf = (packages, name) => (packages.get(name) ?? []).map((c) => c.version).join('+') || 'none';

async function runCell(cell, { tarballs, tools, compilerOptions }) {
  const started = Date.now();
  const dir = join(work, cell.id);
  const log = join(work, `${cell.id}.log`);
  writeFileSync(log, '');
  const node = tools.get(cell.node);
  // plain output: the summary line is read back, and `npm test` reads it too
  const env = { ...cellEnv([node.bin], root), FORCE_COLOR: '0', NO_COLOR: '1' };
  const fail = (what, output) => ({ ok: false, what, output, seconds: seconds(started), node: node.version });

  writeCellProject(root, cell, dir, compilerOptions);
  const install = [
    ...['core', ...cell.adapter].map((p) => tarballs[p]),
    ...cell.install,
    ...suiteDependencies(root),
  ];
  const installStarted = Date.now();
  const npm = await run('npm', ['install', '--no-audit', '--no-fund', ...install], { cwd: dir, env, log });
  const installSeconds = seconds(installStarted);
  if (npm.code !== 0) return fail('npm install', npm.out);

  const packages = installedPackages(dir);
  const problems = checkTree(packages, cell);
  if (problems.length > 0) return fail('installed tree', problems.join('\n'));
  const frameworks = cell.install.map((spec) => {
    const at = spec.lastIndexOf('@');
    const name = at > 0 ? spec.slice(0, at) : spec;
    return `${name} ${versionOf(packages, name)}`;
  });

  const testStarted = Date.now();
  const vitest = join(dir, 'node_modules', 'vitest', 'vitest.mjs');
  const test = await run(node.node, [vitest, 'run', '--config', 'vitest.config.mjs'], { cwd: dir, env, log });
  const testSeconds = seconds(testStarted);
  const summary = /^\s*Tests\s+.*$/m.exec(test.out)?.[0].trim() ?? 'no test summary';
  return {
    ok: test.code === 0,
    what: 'conformance',
    output: test.out,
    summary,
    seconds: seconds(started),
    detail: `install ${installSeconds} s, test ${testSeconds} s`,
    node: node.version,
    versions: [
      ...frameworks,
      `sdk-metrics ${versionOf(packages, '@opentelemetry/sdk-metrics')}`,
      `api ${versionOf(packages, '@opentelemetry/api')}`,
    ].join(', '),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const c of cells) {
      console.log(`${c.id}\tnode ${c.node}\totel ${c.otel}.x\t${c.install.join(' ')}\tapps/${c.app}`);
    }
    return 0;
  }
  const selected = opts.cells.length > 0 ? cells.filter((c) => opts.cells.includes(c.id)) : cells;
  const started = Date.now();
  mkdirSync(work, { recursive: true });

  const tools = new Map();
  for (const major of new Set(selected.map((c) => c.node))) tools.set(major, ensureNode(major));
  const published = new Set(['core', ...selected.flatMap((c) => c.adapter)]);
  const tarballs = packTarballs(root, join(work, 'tarballs'), published, { build: opts.build });
  const setup = { tarballs, tools, compilerOptions: testKitCompilerOptions(root) };
  const version = JSON.parse(readFileSync(join(root, 'packages', 'core', 'package.json'), 'utf8')).version;
  console.log(
    `matrix: ${selected.length} cells, @meterline/* ${version} tarballs in ${join(work, 'tarballs')}`,
  );

  let failed = 0;
  for (const cell of selected) {
    let r;
    try {
      r = await runCell(cell, setup);
    } catch (err) {
      r = { ok: false, what: 'setup', output: String(err?.stack ?? err), seconds: '?', node: '?' };
    }
    if (r.ok) {
      console.log(
        `ok     ${cell.id} ${r.seconds} s (${r.detail}): node ${r.node}, ${r.versions}; ${r.summary}`,
      );
    } else {
      failed++;
      console.log(
        `FAILED ${cell.id} ${r.seconds} s: ${r.what}, node ${r.node}${r.versions ? `, ${r.versions}` : ''}`,
      );
      console.log(r.output.split('\n').slice(-80).join('\n'));
      console.log(`(full log: ${join(work, `${cell.id}.log`)})`);
    }
  }
  console.log(
    `matrix: ${selected.length - failed} passed, ${failed} failed of ${selected.length} cells in ${seconds(started)} s`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err?.message ?? err);
    process.exit(2);
  },
);
