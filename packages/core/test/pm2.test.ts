// PM2 cluster mode with the real pm2 from npm (its daemon under a temp PM2_HOME, killed afterwards). PM2 has no
// primary running application code, so each instance serves its own metrics on METRICS_BASE + NODE_APP_INSTANCE and
// Prometheus scrapes every instance: the sum over the targets equals the client's count exactly, and a restarted
// instance resets only its own series (which rate() and increase() handle per series).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, scrape } from '@meterline/testing';
import { get } from './cluster-helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const PM2 = join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');
const APP = join(here, 'fixtures', 'pm2-app.cjs');
const NAME = 'meterline-pm2-test';
const INSTANCES = 2;
const home = mkdtempSync(join(tmpdir(), 'meterline-pm2-'));
const APP_PORT = 20_000 + Math.floor(Math.random() * 20_000);
const METRICS_BASE = APP_PORT + 100;
const env = {
  ...process.env,
  PM2_HOME: home,
  APP_PORT: String(APP_PORT),
  METRICS_BASE: String(METRICS_BASE),
};
const DURATION = 'http_server_request_duration_seconds';

function pm2(...args: string[]): string {
  const r = spawnSync(process.execPath, [PM2, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

const counts = async (): Promise<number[]> =>
  Promise.all(
    Array.from({ length: INSTANCES }, async (_, i) => {
      const { status, scrape: s } = await scrape(`http://127.0.0.1:${METRICS_BASE + i}/metrics`);
      expect(status).toBe(200);
      return s.totalCount(DURATION, { http_route: '/api/orders/:id' });
    }),
  );

const pids = (): number[] =>
  (JSON.parse(pm2('jlist')) as Array<{ name: string; pid: number; pm2_env: { NODE_APP_INSTANCE: number } }>)
    .filter((p) => p.name === NAME)
    .sort((a, b) => a.pm2_env.NODE_APP_INSTANCE - b.pm2_env.NODE_APP_INSTANCE)
    .map((p) => p.pid);

const up = (): Promise<boolean> =>
  eventually(
    async () => {
      try {
        await counts();
        return true;
      } catch {
        return false;
      }
    },
    20_000,
    200,
  );

beforeAll(async () => {
  pm2('start', APP, '-i', String(INSTANCES), '--name', NAME);
  expect(await up()).toBe(true);
}, 60_000);

afterAll(() => {
  try {
    pm2('kill');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}, 30_000);

async function load(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    expect(
      (await get(APP_PORT, i % 4 === 0 ? `/api/orders/${i}/bad` : `/api/orders/${i}`)).status,
    ).toBeGreaterThan(0);
}

describe('PM2 cluster mode (real pm2)', () => {
  it('gives per-instance targets whose sum equals the client count; a restart resets only its own series', async () => {
    await load(60);
    const before = await counts();
    expect(before.reduce((a, b) => a + b, 0)).toBe(60);
    expect(before.every((c) => c > 0)).toBe(true); // PM2 spread the load over both instances

    const [victim] = pids();
    process.kill(victim, 'SIGKILL');
    expect(await eventually(() => pids()[0] !== victim && pids()[0] > 0, 20_000, 200)).toBe(true);
    expect(await up()).toBe(true);
    const restarted = await counts();
    expect(restarted[0]).toBe(0); // the restarted instance starts its series again (a counter reset)
    expect(restarted[1]).toBe(before[1]);

    await load(40);
    const after = await counts();
    // what increase() over the run adds up per series: the victim's total before the kill, plus each series now
    expect(before[0] + after[0] + after[1]).toBe(100);
  }, 90_000);
});
