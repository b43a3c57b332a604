// The published packages as npm would download them: built once, packed once into one folder.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Builds (turbo, cached) unless `build` is false, packs packages/<name> for each of `names` into `dest`. */
export function packTarballs(root, dest, names, { build = true } = {}) {
  if (build)
    execFileSync('npx', ['turbo', 'run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const tarballs = {};
  for (const name of names) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
      cwd: join(root, 'packages', name),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [{ filename }] = JSON.parse(out);
    tarballs[name] = join(dest, filename);
  }
  return tarballs;
}
