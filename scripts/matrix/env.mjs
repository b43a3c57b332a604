// The environment for commands run in a matrix cell: the cell's Node first on PATH, and nothing inherited from an
// enclosing `npm test` that would tie the cell to this workspace (its local prefix, node_modules/.bin, Node dir).
import { delimiter, sep } from 'node:path';

// npm settings that describe where packages come from, kept so a proxy or mirror configured in the environment
// still applies; every other npm_* variable describes the enclosing npm run and its Node.
const KEEP =
  /^npm_config_(registry|cache|userconfig|globalconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy)$/i;

/** `process.env` with `binDirs` first on PATH, no npm_* of the enclosing run and no PATH entry under `root`. */
export function cellEnv(binDirs, root) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !KEEP.test(k)) continue;
    if (k === 'INIT_CWD' || k === 'PATH') continue;
    env[k] = v;
  }
  const inherited = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => p !== '' && p !== root && !p.startsWith(root + sep) && !p.includes(`${sep}node-gyp-bin`));
  env.PATH = [...binDirs, ...inherited].join(delimiter);
  return env;
}
