#!/usr/bin/env node
// Demo traffic: a steady mix of requests against one or more demo services, so /metrics shows every kind of
// series within seconds. Usage: node scripts/traffic.mjs http://127.0.0.1:3001 [more base URLs] [--rps 20]
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rps: { type: 'string', default: '20' }, duration: { type: 'string' } },
});
const bases = positionals.length > 0 ? positionals : ['http://127.0.0.1:3001'];
const rps = Number(values.rps);
const stopAt = values.duration ? Date.now() + Number(values.duration) * 1000 : Infinity;

const requests = [
  () => ({ path: '/api/users' }),
  () => ({ path: `/api/users/${1 + Math.floor(Math.random() * 25)}` }),
  () => ({ path: '/api/users', method: 'POST', body: JSON.stringify({ name: 'new user' }) }),
  () => ({ path: `/api/orgs/org${Math.floor(Math.random() * 5)}/repos` }),
  () => ({ path: `/api/orgs/org${Math.floor(Math.random() * 5)}/repos/repo${Math.floor(Math.random() * 9)}` }),
  () => ({ path: `/api/search?q=user-${Math.floor(Math.random() * 3)}` }),
  () => ({ path: '/api/slow' }),
  () => ({ path: '/api/flaky' }),
  () => ({ path: '/api/flaky' }),
  () => ({ path: `/no/such/page/${Math.random().toString(36).slice(2)}` }),
  () => ({ path: '/health' }),
];

let sent = 0;
let failed = 0;
async function one() {
  const base = bases[Math.floor(Math.random() * bases.length)];
  const r = requests[Math.floor(Math.random() * requests.length)]();
  try {
    const res = await fetch(base + r.path, {
      method: r.method ?? 'GET',
      body: r.body,
      headers: r.body ? { 'content-type': 'application/json' } : undefined,
    });
    await res.arrayBuffer();
    sent++;
  } catch {
    failed++;
  }
}

const timer = setInterval(() => {
  if (Date.now() > stopAt) {
    clearInterval(timer);
    return;
  }
  for (let i = 0; i < Math.max(1, Math.round(rps / 10)); i++) void one();
}, 100);
const report = setInterval(() => {
  if (Date.now() > stopAt) clearInterval(report);
  process.stderr.write(`traffic: ${sent} requests sent, ${failed} failed\n`);
}, 10_000);
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
