// The other supported framework majors (Express 4, Fastify 4, Koa 2), which the bench workspace cannot install next
// to the newest: each runs from a project of its own under bench/.majors/<name> holding the packed @meterline
// tarballs, the framework major (a plain `npm install`, as a user gets it) and a copy of the server's files, so the
// server's bare imports ('express', '@meterline/express', ...) resolve there.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packTarballs } from '../../scripts/matrix/pack.mjs';
import { copyWithImports } from '../../scripts/matrix/project.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const work = join(here, '..', '.majors');

/** name -> the app builder of apps.mjs (and meterline adapter) it uses, and the framework packages it installs. */
export const MAJORS = {
  express4: { framework: 'express', install: ['express@4'] },
  fastify4: { framework: 'fastify', install: ['fastify@4'] },
  // the oldest supported router major, as in the support matrix (scripts/matrix/cells.mjs)
  koa2: { framework: 'koa', install: ['koa@2', '@koa/router@12'] },
};

/** What a major's project can run: the alternatives' packages are installed in the bench workspace only. */
export const MAJOR_VARIANTS = ['bare', 'control', 'meterline'];

/** 'express@4' -> ['express', '4']; '@koa/router@12' -> ['@koa/router', '12'] */
const splitSpec = (spec) => {
  const at = spec.lastIndexOf('@');
  return at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, ''];
};
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * Packs @meterline/core and the adapters (built) and makes sure each of `names` has its project, reinstalled only
 * when what it installs changed (the tarballs, the specs, Node's major). Returns name -> { framework, dir (the
 * server's folder, for startServer), versions (what got installed, for the log) }.
 */
export function prepareMajors(names) {
  const projects = new Map();
  if (names.length === 0) return projects;
  const adapters = new Set(names.map((n) => MAJORS[n].framework));
  for (const p of ['core', ...adapters]) {
    if (!existsSync(join(root, 'packages', p, 'dist'))) {
      throw new Error(`@meterline/${p} is not built: npx turbo run build`);
    }
  }
  const tarballs = packTarballs(root, join(work, 'tarballs'), new Set(['core', ...adapters]), {
    build: false,
  });
  const api = `@opentelemetry/api@${readJson(join(root, 'package.json')).devDependencies['@opentelemetry/api']}`;
  // npm's `node` is the one running the benchmark
  const env = { ...process.env, PATH: dirname(process.execPath) + delimiter + process.env.PATH };
  for (const name of names) {
    const { framework, install } = MAJORS[name];
    const project = join(work, name);
    const own = [tarballs.core, tarballs[framework]];
    const hash = createHash('sha256');
    for (const t of own) hash.update(readFileSync(t));
    hash.update(JSON.stringify([...install, api, process.versions.node.split('.')[0]]));
    const key = hash.digest('hex');
    const keyFile = join(project, '.installed');
    const started = Date.now();
    const cached = existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key;
    if (!cached) {
      rmSync(project, { recursive: true, force: true });
      mkdirSync(project, { recursive: true });
      const pkg = { name: `meterline-bench-${name}`, private: true, type: 'module' };
      writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
      for (const t of own) copyFileSync(t, join(project, basename(t)));
      execFileSync(
        'npm',
        ['install', '--no-audit', '--no-fund', ...own.map((t) => `./${basename(t)}`), ...install, api],
        { cwd: project, env, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      writeFileSync(keyFile, key);
    }
    // the server's files as they are now (never cached): server.mjs and every file it imports relatively
    const dir = join(project, 'src');
    rmSync(dir, { recursive: true, force: true });
    copyWithImports(here, dir, ['server.mjs']);
    const versionOf = (p) => readJson(join(project, 'node_modules', p, 'package.json')).version;
    for (const [p, major] of install.map(splitSpec)) {
      if (versionOf(p).split('.')[0] !== major) {
        throw new Error(`${name}: ${p} ${versionOf(p)} installed, ${major}.x expected`);
      }
    }
    const installed = [...install.map((s) => splitSpec(s)[0]), `@meterline/${framework}`].map(
      (p) => `${p} ${versionOf(p)}`,
    );
    const how = cached ? 'installed earlier' : `installed in ${((Date.now() - started) / 1000).toFixed(0)} s`;
    console.log(`${name}: ${installed.join(', ')} in ${relative(process.cwd(), project)} (${how})`);
    projects.set(name, { framework, dir });
  }
  return projects;
}
