import { spawnSync } from 'node:child_process';
import { metrics } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, getMeterline, Meterline, startMetricsServer, type MetricsServer } from '@meterline/core';
import {
  BATCH_JOB_METRICS,
  OFFLINE_WORKER_METRICS,
  offlineWorker,
  PushError,
  Pushgateway,
  runJob,
  type PushResult,
} from '../src/index.js';
import { freePort, scrape, startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';

let gateway: RunningPushgateway;
let metricsServer: MetricsServer;

beforeAll(async () => {
  configure({ serviceName: 'jobs-test' });
  gateway = await startPushgateway();
  metricsServer = await startMetricsServer({ port: 0 });
});

afterAll(async () => {
  await metricsServer?.close();
  await gateway?.stop();
});

const nowSeconds = () => Date.now() / 1000;

/** A fresh runtime: stands for a new process (each cron run of a batch job is one). */
const freshProcess = () => new Meterline({ registerGlobal: false, serviceName: 'jobs-test' });

describe('runJob', () => {
  it('records stages, items, duration, outcome and times, and PUTs them to the gateway', async () => {
    const before = nowSeconds();
    const pushed: PushResult[] = [];
    const result = await runJob(
      'nightly-report',
      async (job) => {
        const rows = await job.stage('fetch', async () => [1, 2, 3, 4, 5]);
        await job.stage('write', () => {
          job.itemsProcessed(rows.length);
        });
        return rows.length;
      },
      { pushgateway: gateway.url, grouping: { instance: 'db-1' }, onPush: (r) => pushed.push(r) },
    );
    const after = nowSeconds();
    expect(result).toBe(5);
    expect(pushed).toEqual([
      {
        url: `${gateway.url}/metrics/job/nightly-report/instance/db-1`,
        method: 'PUT',
        status: 200,
        attempts: 1,
      },
    ]);

    const s = await gateway.scrape();
    const group = { job: 'nightly-report', instance: 'db-1' };
    const lastSuccess = s.value(BATCH_JOB_METRICS.lastSuccess, group);
    expect(lastSuccess).toBeGreaterThanOrEqual(before);
    expect(lastSuccess).toBeLessThanOrEqual(after);
    expect(s.value(BATCH_JOB_METRICS.lastCompletion, group)).toBe(lastSuccess);
    expect(s.value(BATCH_JOB_METRICS.itemsProcessed, group)).toBe(5);
    expect(s.value(BATCH_JOB_METRICS.lastOutcome, { ...group, outcome: 'success' })).toBe(1);
    expect(s.value(BATCH_JOB_METRICS.lastOutcome, { ...group, outcome: 'failure' })).toBe(0);
    const duration = s.value(BATCH_JOB_METRICS.duration, group);
    const fetch = s.value(BATCH_JOB_METRICS.stageDuration, { ...group, stage: 'fetch' });
    const write = s.value(BATCH_JOB_METRICS.stageDuration, { ...group, stage: 'write' });
    expect(fetch).toBeGreaterThan(0);
    expect(write).toBeGreaterThan(0);
    // stages run inside the run (1e-9: float rounding); Date.now() has ms resolution (+0.002)
    expect(duration).toBeGreaterThanOrEqual(fetch + write - 1e-9);
    expect(duration).toBeLessThanOrEqual(after - before + 0.002);
    expect(s.types.get(BATCH_JOB_METRICS.lastSuccess)).toBe('GAUGE');
    expect(s.types.get(BATCH_JOB_METRICS.itemsProcessed)).toBe('COUNTER');
  });

  it('a failing run rethrows the error unchanged and leaves the last success on the gateway as it was', async () => {
    const grouping = { instance: 'worker-7' };
    // run 1 (one process) succeeds
    await runJob('import', async (job) => job.stage('load', () => undefined), {
      pushgateway: gateway.url,
      grouping,
      runtime: freshProcess(),
    });
    let s = await gateway.scrape();
    const group = { job: 'import', instance: 'worker-7' };
    const firstSuccess = s.value(BATCH_JOB_METRICS.lastSuccess, group);

    // run 2 (a new process) fails in its second stage
    const boom = new RangeError('source went away');
    const pushed: PushResult[] = [];
    const thrown = await runJob(
      'import',
      async (job) => {
        await job.stage('load', () => undefined);
        await job.stage('transform', () => {
          throw boom;
        });
      },
      { pushgateway: gateway.url, grouping, runtime: freshProcess(), onPush: (r) => pushed.push(r) },
    ).catch((e: unknown) => e);
    expect(thrown).toBe(boom);
    expect(pushed.map((r) => r.method)).toEqual(['POST']);

    s = await gateway.scrape();
    expect(s.value(BATCH_JOB_METRICS.lastSuccess, group)).toBe(firstSuccess);
    const completion = s.value(BATCH_JOB_METRICS.lastCompletion, group);
    expect(completion).toBeGreaterThan(firstSuccess);
    expect(s.value(BATCH_JOB_METRICS.lastOutcome, { ...group, outcome: 'failure' })).toBe(1);
    expect(s.value(BATCH_JOB_METRICS.lastOutcome, { ...group, outcome: 'success' })).toBe(0);
    // the failing stage's duration was recorded too
    expect(s.value(BATCH_JOB_METRICS.stageDuration, { ...group, stage: 'transform' })).toBeGreaterThan(0);

    // run 3 succeeds again: the group is replaced, last success moves on
    await runJob('import', () => 'ok', { pushgateway: gateway.url, grouping, runtime: freshProcess() });
    s = await gateway.scrape();
    expect(s.value(BATCH_JOB_METRICS.lastSuccess, group)).toBeGreaterThanOrEqual(completion);
    expect(s.find(BATCH_JOB_METRICS.stageDuration, group)).toEqual([]); // run 3 had no stages: PUT replaced
  });

  it('an unreachable gateway does not change the job result; the PushError goes to onPushError', async () => {
    const port = await freePort();
    const client = new Pushgateway({ url: `http://127.0.0.1:${port}`, retries: 2, backoffMs: 1 });
    const errors: PushError[] = [];
    const result = await runJob('offline-gw', () => 'done', {
      pushgateway: client,
      onPushError: (e) => errors.push(e),
      runtime: freshProcess(),
    });
    expect(result).toBe('done');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PushError);
    expect(errors[0].attempts).toBe(3);
    expect(errors[0].status).toBeUndefined();
    expect(errors[0].method).toBe('PUT');

    // a failing job with an unreachable gateway still rethrows its own error
    const own = new Error('own');
    const failed: PushError[] = [];
    await expect(
      runJob(
        'offline-gw',
        () => {
          throw own;
        },
        { pushgateway: client, onPushError: (e) => failed.push(e), strict: true, runtime: freshProcess() },
      ),
    ).rejects.toBe(own);
    expect(failed.map((e) => e.method)).toEqual(['POST']);

    // strict: a successful job whose push failed throws the PushError
    const strict = await runJob('offline-gw', () => 1, {
      pushgateway: client,
      strict: true,
      runtime: freshProcess(),
    }).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(PushError);
    expect((strict as PushError).attempts).toBe(3);
  });

  it('pushes only its own job series; `metrics` selects what else goes along', async () => {
    const runtime = freshProcess();
    const written = runtime.meterProvider.getMeter('app').createCounter('rows.written', { unit: '{row}' });
    await runJob('first', (job) => job.itemsProcessed(2), { runtime });
    written.add(9);
    await runJob('second', (job) => job.itemsProcessed(4), { runtime, pushgateway: gateway.url });
    await runJob('third', (job) => job.itemsProcessed(1), { runtime, pushgateway: gateway.url, metrics: [] });
    const s = await gateway.scrape();
    // group second: its own series only (first's were not pushed under job="second"), plus the app's counter
    expect(s.find(BATCH_JOB_METRICS.itemsProcessed, { job: 'second' })).toEqual([
      { labels: { job: 'second', instance: '' }, value: 4 },
    ]);
    expect(s.value('rows_written_total', { job: 'second' })).toBe(9);
    expect(s.find('target_info', { job: 'second' })).toHaveLength(1);
    // group third: metrics: [] -> the job's series (and target_info) only
    expect(s.value(BATCH_JOB_METRICS.itemsProcessed, { job: 'third' })).toBe(1);
    expect(s.find('rows_written_total', { job: 'third' })).toEqual([]);
    expect(s.find(BATCH_JOB_METRICS.itemsProcessed, { job: 'first' })).toEqual([]);
    // in the process itself, each job is a `job` label of the same families
    const local = await runtime.scrape();
    expect(local).toContain('batch_job_items_processed_total{job="first"} 2');
    expect(local).toContain('batch_job_items_processed_total{job="second"} 4');
  });

  it('bad arguments throw naming the option, before the job runs', async () => {
    let ran = false;
    const job = () => {
      ran = true;
    };
    await expect(runJob('', job)).rejects.toThrow(/option "name" is ""/);
    await expect(runJob('j', job, { pushgateway: 'ftp://x' })).rejects.toThrow(/option "url"/);
    await expect(runJob('j', job, { grouping: { 'a-b': 'x' } })).rejects.toThrow(/option "grouping.a-b"/);
    await expect(runJob('j', job, { strict: 'yes' as never })).rejects.toThrow(/option "strict"/);
    await expect(runJob('j', job, { retries: 1 } as never)).rejects.toThrow(/unknown option "retries"/);
    expect(ran).toBe(false);
    await expect(runJob('j', async (j) => j.itemsProcessed(-1), { runtime: freshProcess() })).rejects.toThrow(
      /option "count" is -1/,
    );
  });
});

describe('offlineWorker (scraped, no push)', () => {
  it('counts items in, out, failed and in progress, the last processed time and stage durations in a real scrape', async () => {
    const worker = offlineWorker('email-sender');
    let release!: () => void;
    const pending = new Promise<void>((resolve) => (release = resolve));
    const send = async (to: string, ctx: { stage<T>(n: string, f: () => T | Promise<T>): Promise<T> }) => {
      await ctx.stage('render', () => `hello ${to}`);
      await ctx.stage('deliver', async () => {
        if (to === 'bounce') throw new TypeError('bad address');
        if (to === 'slow') await pending;
      });
      return to;
    };
    const before = nowSeconds();
    expect(await worker.process('a@x', send)).toBe('a@x');
    expect(await worker.process('b@x', send)).toBe('b@x');
    const bounce = await worker.process('bounce', send).catch((e: unknown) => e);
    expect(bounce).toBeInstanceOf(TypeError);
    const slow = worker.process('slow', send);

    const url = metricsServer.url;
    let s = await scrape(url);
    const w = { worker: 'email-sender' };
    expect(s.value(OFFLINE_WORKER_METRICS.itemsReceived, w)).toBe(4);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsProcessed, w)).toBe(2);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsFailed, { ...w, error_type: 'TypeError' })).toBe(1);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsInProgress, w)).toBe(1);
    const last = s.value(OFFLINE_WORKER_METRICS.lastProcessed, w);
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(nowSeconds());
    expect(s.value(`${OFFLINE_WORKER_METRICS.itemDuration}_count`, w)).toBe(3);
    expect(s.value(`${OFFLINE_WORKER_METRICS.stageDuration}_count`, { ...w, stage: 'render' })).toBe(4);
    expect(s.value(`${OFFLINE_WORKER_METRICS.stageDuration}_count`, { ...w, stage: 'deliver' })).toBe(3);
    expect(s.types.get(OFFLINE_WORKER_METRICS.stageDuration)).toBe('HISTOGRAM');
    expect(s.find(OFFLINE_WORKER_METRICS.batchesReceived, w)).toEqual([]); // not batching

    release();
    expect(await slow).toBe('slow');
    s = await scrape(url);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsInProgress, w)).toBe(0);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsProcessed, w)).toBe(3);
    expect(s.value(`${OFFLINE_WORKER_METRICS.stageDuration}_count`, { ...w, stage: 'deliver' })).toBe(4);
  });

  it('counts batches in and out and items failed inside a batch', async () => {
    const worker = offlineWorker('indexer');
    await worker.processBatch([1, 2, 3, 4], async (items, ctx) => {
      await ctx.stage('index', () => undefined);
      ctx.itemsFailed(1, new SyntaxError('bad doc'));
      return items.length;
    });
    const err = new Error('index down');
    await expect(
      worker.processBatch([5, 6], () => {
        throw err;
      }),
    ).rejects.toBe(err);
    const s = await scrape(metricsServer.url);
    const w = { worker: 'indexer' };
    expect(s.value(OFFLINE_WORKER_METRICS.batchesReceived, w)).toBe(2);
    expect(s.value(OFFLINE_WORKER_METRICS.batchesProcessed, w)).toBe(1);
    expect(s.value(OFFLINE_WORKER_METRICS.batchesFailed, w)).toBe(1);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsReceived, w)).toBe(6);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsProcessed, w)).toBe(3);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsFailed, { ...w, error_type: 'SyntaxError' })).toBe(1);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsFailed, { ...w, error_type: 'Error' })).toBe(2);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsInProgress, w)).toBe(0);
    expect(s.value(`${OFFLINE_WORKER_METRICS.batchDuration}_count`, w)).toBe(2);
    expect(s.value(`${OFFLINE_WORKER_METRICS.stageDuration}_count`, { ...w, stage: 'index' })).toBe(1);
  });

  it('caps stage names and error types', async () => {
    const worker = offlineWorker('capped', { maxStages: 2, maxErrorTypes: 1 });
    for (const stage of ['a', 'b', 'c', 'd']) await worker.process(stage, (x, ctx) => ctx.stage(x, () => x));
    class E1 extends Error {}
    class E2 extends Error {}
    for (const E of [E1, E2, E2]) {
      await worker
        .process(E, (C) => {
          throw new C();
        })
        .catch(() => undefined);
    }
    const s = await scrape(metricsServer.url);
    const w = { worker: 'capped' };
    expect(
      s.find(`${OFFLINE_WORKER_METRICS.stageDuration}_count`, w).map((x) => [x.labels.stage, x.value]),
    ).toEqual([
      ['a', 1],
      ['b', 1],
      ['_OTHER', 2],
    ]);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsFailed, { ...w, error_type: 'E1' })).toBe(1);
    expect(s.value(OFFLINE_WORKER_METRICS.itemsFailed, { ...w, error_type: '_OTHER' })).toBe(2);
  });

  it('bad options throw naming the option', () => {
    expect(() => offlineWorker('')).toThrow(/option "name" is ""/);
    expect(() => offlineWorker('w', { maxStages: 0 })).toThrow(/option "maxStages"/);
    expect(() => offlineWorker('w', { buckets: [] } as never)).toThrow(/unknown option "buckets"/);
  });
});

describe('custom collectors', () => {
  it('an observable gauge from @opentelemetry/api is computed at scrape time and served on the same /metrics', async () => {
    getMeterline(); // the runtime registers its MeterProvider as the global one
    let depth = 3;
    const meter = metrics.getMeter('queue-app');
    const gauge = meter.createObservableGauge('queue.depth', {
      unit: '{message}',
      description: 'Messages waiting.',
    });
    gauge.addCallback((result) => result.observe(depth, { queue: 'emails' }));
    const counter = meter.createObservableCounter('queue.enqueued', { unit: '{message}' });
    let enqueued = 10;
    counter.addCallback((result) => result.observe(enqueued));

    let s = await scrape(metricsServer.url);
    expect(s.value('queue_depth', { queue: 'emails' })).toBe(3);
    expect(s.value('queue_enqueued_total')).toBe(10);
    depth = 8;
    enqueued = 12;
    s = await scrape(metricsServer.url);
    expect(s.value('queue_depth', { queue: 'emails' })).toBe(8);
    expect(s.value('queue_enqueued_total')).toBe(12);
    expect(s.types.get('queue_depth')).toBe('GAUGE');
  });
});

describe('names', () => {
  it('every batch job and offline worker family passes promtool check metrics', async () => {
    const runtime = freshProcess();
    await runJob('lint', (job) => job.stage('s', () => job.itemsProcessed(1)), { runtime });
    await runJob('lint', () => Promise.reject(new Error('x')), { runtime }).catch(() => undefined);
    const worker = offlineWorker('lint', { runtime });
    await worker.process(1, (_x, ctx) => ctx.stage('s', () => 1));
    await worker.process(1, () => Promise.reject(new Error('x'))).catch(() => undefined);
    await worker.processBatch([1], () => 1);
    const text = await runtime.scrape();
    for (const name of [...Object.values(BATCH_JOB_METRICS), ...Object.values(OFFLINE_WORKER_METRICS)]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const promtool = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: promtool.status, stdout: promtool.stdout, stderr: promtool.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });
});
