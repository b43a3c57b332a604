// A batch job with stages that pushes its metrics to a Pushgateway when it ends, also when it fails.
//   PUSHGATEWAY_URL  default http://127.0.0.1:9091
//   JOB_FAIL=1       make the `write` stage throw (the gateway keeps the time of the last success)
//   JOB_ITEMS        how many records to process (default 250)
import { configure, getMeterline } from '@meterline/core';
import { runJob } from '@meterline/jobs';

configure({ serviceName: 'batch-demo' });

const gatewayUrl = process.env.PUSHGATEWAY_URL ?? 'http://127.0.0.1:9091';
const fail = process.env.JOB_FAIL === '1';
const count = Number(process.env.JOB_ITEMS ?? 250);

// a metric of the job's own, recorded with the OpenTelemetry API on meterline's MeterProvider: pushed along
const bytesWritten = getMeterline()
  .meterProvider.getMeter('batch-demo')
  .createCounter('report.written', { unit: 'By', description: 'Bytes of report written.' });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  id: number;
  amount: number;
}

try {
  const written = await runJob(
    'demo-report',
    async (job) => {
      const rows = await job.stage('fetch', async (): Promise<Row[]> => {
        await sleep(120);
        return Array.from({ length: count }, (_, id) => ({
          id,
          amount: Math.round(Math.random() * 10_000) / 100,
        }));
      });
      const lines = await job.stage('transform', async () => {
        await sleep(40);
        return rows.map((r) => `${r.id},${r.amount.toFixed(2)}`);
      });
      return job.stage('write', async () => {
        let bytes = 0;
        for (const line of lines) {
          if (fail && bytes > 1000) throw new Error('report storage went away');
          bytes += Buffer.byteLength(line) + 1;
          job.itemsProcessed(1);
        }
        bytesWritten.add(bytes);
        await sleep(60);
        return bytes;
      });
    },
    {
      pushgateway: { url: gatewayUrl, retries: 2, timeoutMs: 3000 },
      onPush: (r) => console.log(`pushed: ${r.method} ${r.url} -> ${r.status} (${r.attempts} attempt(s))`),
      onPushError: (e) => console.error(`push failed (the job's result is unaffected): ${e.message}`),
    },
  );
  console.log(`demo-report done: ${written} bytes written`);
} catch (err) {
  console.error(`demo-report failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
