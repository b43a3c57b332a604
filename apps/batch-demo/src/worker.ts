// An offline worker (a continuous consumer) whose metrics Prometheus scrapes: an in-process queue of emails,
// sent one by one in two stages, and a batch indexer. Metrics on http://127.0.0.1:3004/metrics (PORT to change).
import { metrics } from '@opentelemetry/api';
import { getMeterline, startMetricsServer } from '@meterline/core';
import { offlineWorker, type BatchContext, type WorkerContext } from '@meterline/jobs';

getMeterline(); // the runtime registers its MeterProvider globally: metrics.getMeter() below records into it

const port = Number(process.env.PORT ?? 3004);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Email {
  to: string;
  subject: string;
}
const queue: Email[] = [];

// a custom collector: the queue depth, computed at scrape time
metrics
  .getMeter('batch-demo')
  .createObservableGauge('email.queue.depth', {
    unit: '{message}',
    description: 'Emails waiting to be sent.',
  })
  .addCallback((result) => result.observe(queue.length));

class BounceError extends Error {}

const sender = offlineWorker('email-sender');
async function send(email: Email, ctx: WorkerContext) {
  const body = await ctx.stage('render', async () => {
    await sleep(2 + Math.random() * 5);
    return `Hello ${email.to}, ${email.subject}`;
  });
  await ctx.stage('deliver', async () => {
    await sleep(10 + Math.random() * 40);
    if (email.to.endsWith('@bounce.example')) throw new BounceError(`mailbox ${email.to} does not exist`);
  });
  return body.length;
}

const indexer = offlineWorker('search-indexer');
async function index(docs: readonly Email[], ctx: BatchContext) {
  await ctx.stage('tokenize', () => sleep(5));
  await ctx.stage('commit', () => sleep(20));
  const empty = docs.filter((d) => d.subject === '').length;
  if (empty > 0) ctx.itemsFailed(empty, new TypeError('empty subject'));
}

let running = true;

async function produce(): Promise<void> {
  let n = 0;
  while (running) {
    for (let i = 0; i < 1 + Math.floor(Math.random() * 4); i++) {
      n++;
      const to = n % 13 === 0 ? `user${n}@bounce.example` : `user${n}@example.com`;
      queue.push({ to, subject: n % 17 === 0 ? '' : `message ${n}` });
    }
    await sleep(100);
  }
}

async function consume(): Promise<void> {
  while (running) {
    const email = queue.shift();
    if (email === undefined) {
      await sleep(20);
      continue;
    }
    await sender.process(email, send).catch(() => undefined); // counted as failed by error type
  }
}

async function indexBatches(): Promise<void> {
  const pending: Email[] = [];
  let n = 0;
  while (running) {
    n++;
    pending.push({ to: `doc${n}`, subject: n % 9 === 0 ? '' : `doc ${n}` });
    if (pending.length >= 10) {
      await indexer.processBatch(pending.splice(0), index).catch(() => undefined);
    }
    await sleep(30);
  }
}

const server = await startMetricsServer({ port });
console.log(`batch-demo worker running; metrics at ${server.url}`);
const loops = Promise.all([produce(), consume(), indexBatches()]);

async function stop(): Promise<void> {
  running = false;
  await loops;
  await server.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
