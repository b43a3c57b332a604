import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Meterline } from '@meterline/core';
import { PushError, schedulePush } from '../src/index.js';
import {
  pushgatewayForFile,
  startPushgateway,
  type Parsed,
  type RunningPushgateway,
} from './helpers/pushgateway.js';

const gateway = pushgatewayForFile('scheduled-test');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh runtime: stands for one process. */
const freshProcess = () => new Meterline({ registerGlobal: false, serviceName: 'scheduled-test' });

/** Poll `read` until `ok` holds (bounded); returns the last value read. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let v: T | undefined;
    try {
      v = await read();
      if (ok(v)) return v;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) {
      if (v === undefined) throw new Error('never readable');
      return v;
    }
    await sleep(50);
  }
}

const valueOr = (s: Parsed, name: string, labels: Record<string, string>) => {
  const found = s.find(name, labels);
  return found.length === 1 ? found[0].value : -1;
};

describe('schedulePush', () => {
  it('keeps pushing through a gateway outage: after the restart the gateway holds the client counts', async () => {
    const gw = await startPushgateway();
    let restarted: RunningPushgateway | undefined;
    const runtime = freshProcess();
    const orders = runtime.meterProvider.getMeter('shop').createCounter('orders.placed', { unit: '{order}' });
    let placed = 0;
    const tick = setInterval(() => {
      orders.add(1);
      placed++;
    }, 5);
    const errors: PushError[] = [];
    const group = { job: 'outage', instance: 'replica-1' };
    const scheduled = schedulePush({
      pushgateway: { url: gw.url, retries: 0, timeoutMs: 500 },
      job: 'outage',
      grouping: { instance: 'replica-1' },
      intervalMs: 100,
      retryMs: 20,
      runtime,
      finalPush: false,
      signals: [],
      onPushError: (e) => errors.push(e),
    });
    try {
      const first = await until(gw.scrape, (s) => valueOr(s, 'orders_placed_total', group) > 0);
      expect(valueOr(first, 'orders_placed_total', group)).toBeGreaterThan(0);

      await gw.stop(); // the gateway goes away (and with it everything it held)
      await until(
        async () => errors.length,
        (n) => n >= 3,
      );
      expect(scheduled.consecutiveFailures).toBeGreaterThanOrEqual(3);
      expect(errors[0]).toBeInstanceOf(PushError);
      expect(errors[0].status).toBeUndefined();
      const countedDuringOutage = placed;

      restarted = await startPushgateway(gw.port); // same address, empty
      await sleep(200);
      clearInterval(tick);
      const final = placed;
      expect(final).toBeGreaterThan(countedDuringOutage);
      const s = await until(restarted.scrape, (x) => valueOr(x, 'orders_placed_total', group) === final);
      expect(s.value('orders_placed_total', group)).toBe(final);
      expect(scheduled.consecutiveFailures).toBe(0);
      // the failures reached the gateway with the first push after the outage
      const failures = errors.length;
      const self = await until(
        restarted.scrape,
        (x) => valueOr(x, 'meterline_push_failures_total', group) === failures,
      );
      expect(self.value('meterline_push_failures_total', group)).toBe(failures);
      expect(self.value('meterline_push_attempts_total', group)).toBeGreaterThan(failures);
      expect(self.value('meterline_push_last_success_timestamp_seconds', group)).toBeGreaterThan(
        Date.now() / 1000 - 60,
      );
    } finally {
      clearInterval(tick);
      await scheduled.stop();
      await restarted?.stop();
      await runtime.shutdown();
    }
  });

  it('replicas with their own instance label keep their own group; stop() pushes the latest counts', async () => {
    const replicas = ['a', 'b'].map((name) => {
      const runtime = freshProcess();
      const jobs = runtime.meterProvider.getMeter('w').createCounter('work.done', { unit: '{job}' });
      const scheduled = schedulePush({
        pushgateway: gateway.url,
        job: 'replicated',
        grouping: { instance: name },
        intervalMs: 3_600_000,
        runtime,
        signals: [],
      });
      return { name, runtime, jobs, scheduled };
    });
    for (const r of replicas) await r.scheduled.pushNow();
    replicas[0].jobs.add(3);
    replicas[1].jobs.add(5);
    for (const r of replicas) await r.scheduled.stop(); // the final push
    const s = await gateway.scrape();
    expect(s.value('work_done_total', { job: 'replicated', instance: 'a' })).toBe(3);
    expect(s.value('work_done_total', { job: 'replicated', instance: 'b' })).toBe(5);
    for (const r of replicas) await r.runtime.shutdown();
  });

  it('fails fast on bad options, naming them', () => {
    expect(() => schedulePush({ job: 'x' } as never)).toThrow(/pushgateway/);
    expect(() => schedulePush({ pushgateway: gateway.url } as never)).toThrow(/job/);
    expect(() => schedulePush({ pushgateway: gateway.url, job: 'x', intervalMs: 0, signals: [] })).toThrow(
      /intervalMs/,
    );
    expect(() => schedulePush({ pushgateway: gateway.url, job: 'x', method: 'PATCH' as never })).toThrow(
      /method/,
    );
    expect(() => schedulePush({ pushgateway: gateway.url, job: 'x', signals: ['TERM' as never] })).toThrow(
      /signals/,
    );
    expect(() => schedulePush({ pushgateway: gateway.url, job: 'x', every: 5 } as never)).toThrow(
      /unknown option "every"/,
    );
  });
});

const CHILD = fileURLToPath(new URL('./fixtures/scheduled-push-child.mjs', import.meta.url));

/** Run the child until it says ready; `act` then ends it somehow. Resolves to how it exited. */
async function runChild(
  mode: 'signal' | 'exit',
  act: (pid: number) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CHILD, gateway.url, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error(`child exited before ready: ${stderr}`)));
  });
  act(child.pid!);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const result = await exited;
  clearTimeout(timer);
  return { ...result, stderr };
}

describe('the final push at shutdown', () => {
  it('SIGTERM: pushes the latest counts, then the process still dies of the signal', async () => {
    const exit = await runChild('signal', (pid) => process.kill(pid, 'SIGTERM'));
    expect(exit.stderr).toBe('');
    expect(exit.signal).toBe('SIGTERM');
    expect(exit.code).toBeNull();
    const s = await gateway.scrape();
    expect(s.value('child_items_total', { job: 'scheduled-child', instance: 'signal' })).toBe(42);
  });

  it('beforeExit: a process that runs out of work pushes once more and exits with its own code', async () => {
    const exit = await runChild('exit', () => undefined);
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(3);
    const s = await gateway.scrape();
    expect(s.value('child_items_total', { job: 'scheduled-child', instance: 'exit' })).toBe(42);
  });
});
