// Starting a multi-process fixture and driving a known, bounded load against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { Scrape } from '@meterline/testing';

export interface Started {
  child: ChildProcess;
  /** JSON lines the fixture printed */
  lines: Array<Record<string, unknown>>;
  output: () => string;
}

/** Spawn `node file` and wait until `ready(lines)` holds (bounded). */
export async function startFixture(
  file: string,
  env: Record<string, string>,
  ready: (lines: Array<Record<string, unknown>>) => boolean,
  ms = 15_000,
): Promise<Started> {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of d.toString().split('\n')) {
      if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const until = Date.now() + ms;
  while (!ready(lines)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`fixture did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, lines, output: () => out };
}

/** One request on a fresh connection (so the OS, not keep-alive, picks the worker). */
export function get(
  port: number,
  path: string,
  timeoutMs = 15_000,
): Promise<{ status: number; body: string; worker: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, worker: String(res.headers['x-worker']) }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

export async function scrapeOf(
  port: number,
  timeoutMs?: number,
): Promise<{ scrape: Scrape; worker: string; ms: number; status: number }> {
  const t = Date.now();
  const r = await get(port, '/metrics', timeoutMs);
  return {
    scrape: new Scrape(r.status === 200 ? r.body : ''),
    worker: r.worker,
    ms: Date.now() - t,
    status: r.status,
  };
}

export const DURATION = 'http_server_request_duration_seconds';
