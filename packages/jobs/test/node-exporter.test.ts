import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, Meterline } from '@meterline/core';
import { BATCH_JOB_METRICS, runJob } from '../src/index.js';
import { scrape } from './helpers/pushgateway.js';
import {
  startNodeExporter,
  startPrometheus,
  type Running,
  type RunningPrometheus,
} from './helpers/servers.js';

// The real chain: runJob writes a *.prom file, Debian's node_exporter (textfile collector only) reads the
// directory, the real Prometheus scrapes node_exporter.

let dir: string;
let exporter: Running;
let prometheus: RunningPrometheus;

beforeAll(async () => {
  configure({ serviceName: 'node-exporter-test' });
  dir = mkdtempSync(join(tmpdir(), 'meterline-textfiles-'));
  exporter = await startNodeExporter(dir);
  prometheus = await startPrometheus('node', [exporter.url.replace('http://', '')]);
});

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll an instant query until it has a result (bounded: the first scrape of a target comes ~5 s after start). */
async function queryUntil(expr: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await prometheus.query(expr);
    if (result.length > 0 || Date.now() > deadline) return result;
    await sleep(250);
  }
}

describe('node_exporter textfile collector', () => {
  it("a job's last success and counts arrive in Prometheus through node_exporter", async () => {
    const runtime = new Meterline({ registerGlobal: false, serviceName: 'node-exporter-test' });
    const before = Date.now() / 1000;
    await runJob(
      'backup',
      async (job) => {
        await job.stage('dump', () => job.itemsProcessed(17));
      },
      { textfile: join(dir, 'backup.prom'), runtime },
    );

    // node_exporter reads it without complaint
    const direct = await scrape(exporter.url + '/metrics');
    expect(direct.value('node_textfile_scrape_error')).toBe(0);
    expect(direct.value(BATCH_JOB_METRICS.itemsProcessed, { job: 'backup' })).toBe(17);

    // the scraped `job` label is Prometheus' ("node"): the job's own becomes exported_job (or honor_labels)
    const success = await queryUntil(`${BATCH_JOB_METRICS.lastSuccess}{exported_job="backup"}`);
    expect(success).toHaveLength(1);
    expect(success[0].metric.job).toBe('node');
    expect(Number(success[0].value[1])).toBeGreaterThanOrEqual(Math.floor(before));
    expect(Number(success[0].value[1])).toBeLessThanOrEqual(Date.now() / 1000);
    const items = await queryUntil(`${BATCH_JOB_METRICS.itemsProcessed}{exported_job="backup"}`);
    expect(Number(items[0].value[1])).toBe(17);
    const outcome = await queryUntil(
      `${BATCH_JOB_METRICS.lastOutcome}{exported_job="backup",outcome="success"}`,
    );
    expect(Number(outcome[0].value[1])).toBe(1);
    const errors = await queryUntil('node_textfile_scrape_error');
    expect(Number(errors[0].value[1])).toBe(0);
    await runtime.shutdown();
  });
});
