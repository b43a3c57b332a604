import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './pushgateway.js';

// Debian's node_exporter and Prometheus on 127.0.0.1, state in a temp dir, stopped by PID.

export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface Running {
  url: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawn `bin` and wait until `${url}${readyPath}` answers 200 (15 s at most). */
async function startServer(bin: string, args: string[], url: string, readyPath: string): Promise<Running> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (log.length < 20_000) log += c.toString();
  });
  child.on('error', (err) => (log += String(err)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}: ${log}`);
    try {
      const res = await fetch(url + readyPath);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${bin} not ready within 15 s: ${log}`);
    }
    await sleep(50);
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      }
    },
  };
}

/** node_exporter with only the textfile collector, reading `directory`. */
export async function startNodeExporter(directory: string): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startServer(
    NODE_EXPORTER_BIN,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.textfile',
      `--collector.textfile.directory=${directory}`,
    ],
    url,
    '/metrics',
  );
}

export interface RunningPrometheus extends Running {
  /** Instant query; the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
}

/** Prometheus scraping `targets` (host:port) as job `job` every second. */
export async function startPrometheus(job: string, targets: string[]): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'meterline-prom-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: job, static_configs: [{ targets }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
  const server = await startServer(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    url,
    '/-/ready',
  );
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data: { result: never[] }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
