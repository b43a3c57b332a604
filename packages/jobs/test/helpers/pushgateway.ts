import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// parse-prometheus-text-format ships no types
// @ts-expect-error no declaration file
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';

export interface RunningPushgateway {
  url: string;
  port: number;
  pid: number;
  /** The gateway's own /metrics, parsed. */
  scrape(): Promise<Parsed>;
  /** Stop it by PID and remove its temp dir. */
  stop(): Promise<void>;
}

export type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}
interface RawFamily {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Labels }[];
}

/**
 * A parsed exposition: samples by name. parse-prometheus-text-format folds the series of a labelled histogram
 * into one sample, so histogram TYPE lines are dropped first: each `_bucket`, `_sum` and `_count` line then
 * parses as its own untyped sample with its labels.
 */
export class Parsed {
  readonly samples = new Map<string, Sample[]>();
  readonly types = new Map<string, string>();
  constructor(readonly text: string) {
    const histograms = new Set<string>();
    const kept = text
      .split('\n')
      .filter((line) => {
        const m = /^# TYPE (\S+) histogram$/.exec(line);
        if (m !== null) histograms.add(m[1]);
        return m === null;
      })
      .join('\n');
    for (const f of parsePrometheusTextFormat(kept) as RawFamily[]) {
      this.types.set(f.name, f.type);
      const list = this.samples.get(f.name) ?? [];
      for (const m of f.metrics) list.push({ labels: m.labels ?? {}, value: Number(m.value) });
      this.samples.set(f.name, list);
    }
    for (const h of histograms) this.types.set(h, 'HISTOGRAM');
  }

  /** Samples of `name` whose labels include `match`. */
  find(name: string, match: Labels = {}): Sample[] {
    return (this.samples.get(name) ?? []).filter((s) =>
      Object.entries(match).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** The value of the one sample of `name` matching `match` (throws if none or several). */
  value(name: string, match: Labels = {}): number {
    const found = this.find(name, match);
    if (found.length !== 1) {
      throw new Error(
        `expected one sample ${name}${JSON.stringify(match)}, found ${found.length}:\n${this.text}`,
      );
    }
    return found[0].value;
  }
}

/** GET a URL and parse the exposition. */
export async function scrape(url: string): Promise<Parsed> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return new Parsed(await res.text());
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start the real Pushgateway on 127.0.0.1 (on `port`, e.g. to restart one, or a free one) with a temp persistence
 * file; resolves once /-/ready answers 200.
 */
export async function startPushgateway(port?: number): Promise<RunningPushgateway> {
  const dir = mkdtempSync(join(tmpdir(), 'meterline-pgw-'));
  port ??= await freePort();
  const child: ChildProcess = spawn(
    PUSHGATEWAY_BIN,
    [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(dir, 'pgw.data')}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (log.length < 20_000) log += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pushgateway exited with ${child.exitCode}: ${log}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pushgateway not ready within 15 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    pid: child.pid!,
    scrape: () => scrape(`${url}/metrics`),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
