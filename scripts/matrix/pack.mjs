// The published packages as npm would download them: built once, packed once into one folder.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const PUBLISHED = ['core', 'express', 'fastify', 'koa'];

/** Builds (turbo, cached) unless `build` is false, packs every published package into `dest`; name -> tarball. */
export function packTarballs(root, dest, { build = true } = {}) {
  if (build)
    execFileSync('npx', ['turbo', 'run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const tarballs = {};
  for (const p of PUBLISHED) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
      cwd: join(root, 'packages', p),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [{ filename }] = JSON.parse(out);
    tarballs[p] = join(dest, filename);
  }
  return tarballs;
}
