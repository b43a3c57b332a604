import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { configure } from '@meterline/core';
import { listening, metricsAt, Scrape } from '@meterline/testing';

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
/**
 * A parsed exposition on the shared parser (@meterline/testing's Scrape): samples by their own name (`x_bucket`,
 * `x_count`: a histogram's base name has none) matched by included labels, types as the parser names them.
 */
export class Parsed {
  readonly types = new Map<string, string>();
  private readonly scrape: Scrape;
  constructor(readonly text: string) {
    this.scrape = new Scrape(text);
    for (const [name, type] of this.scrape.types) this.types.set(name, type.toUpperCase());
  }

  /** Samples of `name` whose labels include `match`. */
  find(name: string, match: Labels = {}): Sample[] {
    return (this.scrape.series.get(name) ?? [])
      .map((s) => ({ labels: s.labels ?? {}, value: Number(s.value) }))
      .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
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
  return new Parsed((await metricsAt(url)).text);
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  const { port, close } = await listening(createServer().listen(0, '127.0.0.1'));
  await close();
  return port;
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

/**
 * One Pushgateway for the tests of a file: configures the process-wide runtime as `serviceName` and starts the
 * gateway before them, stops it after them.
 */
export function pushgatewayForFile(serviceName: string): RunningPushgateway {
  let running: RunningPushgateway | undefined;
  beforeAll(async () => {
    configure({ serviceName });
    running = await startPushgateway();
  });
  afterAll(async () => {
    await running?.stop();
  });
  const get = (): RunningPushgateway => {
    if (running === undefined) throw new Error('the Pushgateway starts in beforeAll');
    return running;
  };
  return {
    get url() {
      return get().url;
    },
    get port() {
      return get().port;
    },
    get pid() {
      return get().pid;
    },
    scrape: () => get().scrape(),
    stop: () => get().stop(),
  };
}
