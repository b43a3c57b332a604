#!/usr/bin/env node
// Node.js binaries per major, installed from the npm registry (the `node` package) into a tools folder outside
// the workspace and reused from there: $METERLINE_TOOLS, else ~/.cache/meterline-tools, one <tools>/node<major>
// prefix each. As a command, `node scripts/matrix/node-tools.mjs 24` installs if missing and prints the bin dir.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellEnv } from './env.mjs';

export function toolsDir() {
  return resolve(process.env.METERLINE_TOOLS || join(homedir(), '.cache', 'meterline-tools'));
}

function versionOf(node) {
  if (!existsSync(node)) return undefined;
  try {
    return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** The Node binary of `major` from the tools folder, installing the newest `node@<major>` there if missing. */
export function ensureNode(major, dir = toolsDir()) {
  const prefix = join(dir, `node${major}`);
  const bin = join(prefix, 'node_modules', '.bin');
  const node = join(bin, 'node');
  let version = versionOf(node);
  if (version?.split('.')[0] !== String(major)) {
    mkdirSync(prefix, { recursive: true });
    process.stderr.write(`installing node@${major} into ${prefix}\n`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', prefix, `node@${major}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: cellEnv([], process.cwd()),
    });
    version = versionOf(node);
    if (version?.split('.')[0] !== String(major)) {
      throw new Error(`node@${major} installed into ${prefix} but ${node} reports ${version ?? 'nothing'}`);
    }
  }
  return { major, version, bin, node };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const major = Number(process.argv[2]);
  if (!Number.isInteger(major) || major < 18) {
    console.error('usage: node scripts/matrix/node-tools.mjs <node major>');
    process.exit(2);
  }
  console.log(ensureNode(major).bin);
}
