#!/usr/bin/env node
// `npm run demo`: start the demo services (Express, Fastify, Koa) on 127.0.0.1, drive traffic at them and print
// where to look. Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const apps = [
  { name: 'express-demo', port: 3001 },
  { name: 'fastify-demo', port: 3002 },
  { name: 'koa-demo', port: 3003 },
];
const children = [];

function start(cmd, args, env, label) {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${label} exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
}

async function waitFor(url, ms = 20_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return false;
}

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const running = [];
for (const app of apps) {
  const main = join(root, 'apps', app.name, 'src', 'main.ts');
  if (!existsSync(main)) continue;
  start(tsx, [main], { PORT: String(app.port) }, app.name);
  running.push(app);
}
const bases = running.map((a) => `http://127.0.0.1:${a.port}`);
for (const base of bases) {
  if (!(await waitFor(base + '/health'))) console.error(`${base} did not come up`);
}
start(process.execPath, [join(root, 'scripts', 'traffic.mjs'), ...bases, '--rps', '30'], {}, 'traffic');

console.log('\nmeterline demo running (Ctrl-C to stop):');
for (const app of running) {
  console.log(`  ${app.name.padEnd(13)} http://127.0.0.1:${app.port}   metrics: http://127.0.0.1:${app.port}/metrics`);
}
console.log('\nTry:  curl -s http://127.0.0.1:3001/metrics | grep http_server_request_duration_seconds_count\n');
