export { abortBeforeResponse, eventually } from '@meterline/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
// parse-prometheus-text-format ships no types
// @ts-expect-error no declaration file
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export type Labels = Record<string, string>;
interface Sample {
  labels?: Labels;
  value?: string;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}

export const DURATION = 'http_server_request_duration_seconds';
export const REQUEST_SIZE = 'http_server_request_body_size_bytes';
export const RESPONSE_SIZE = 'http_server_response_body_size_bytes';
export const ACTIVE = 'http_server_active_requests';

/** Labels of an HTTP series as scraped (route and error type only when given). */
export function series(method: string, status: string, route?: string, errorType?: string): Labels {
  const labels: Labels = {
    http_request_method: method,
    http_response_status_code: status,
    url_scheme: 'http',
    network_protocol_version: '1.1',
  };
  if (route !== undefined) labels.http_route = route;
  if (errorType !== undefined) labels.error_type = errorType;
  return labels;
}

/**
 * A parsed scrape. parse-prometheus-text-format folds every series of a labelled histogram into one unlabelled
 * sample, so histogram TYPE lines are dropped before parsing: each `_bucket`, `_sum` and `_count` line then
 * parses as its own sample with its labels, and samples are merged by name.
 */
export class Scrape {
  readonly families = new Map<string, Sample[]>();
  constructor(readonly text: string) {
    const parsed = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '')) as Family[];
    for (const f of parsed) {
      const samples = this.families.get(f.name);
      if (samples === undefined) this.families.set(f.name, [...f.metrics]);
      else samples.push(...f.metrics);
    }
  }
  /** The one sample of a family with exactly these labels. */
  exact(name: string, labels: Labels): Sample | undefined {
    const want = Object.entries(labels).sort();
    return this.families.get(name)?.find((m) => {
      const have = Object.entries(m.labels ?? {}).sort();
      return have.length === want.length && have.every(([k, v], i) => k === want[i][0] && v === want[i][1]);
    });
  }
  /** `_count` of a histogram series (0 if absent). */
  count(name: string, labels: Labels): number {
    return Number(this.exact(`${name}_count`, labels)?.value ?? 0);
  }
  /** `_sum` of a histogram series (0 if absent). */
  sum(name: string, labels: Labels): number {
    return Number(this.exact(`${name}_sum`, labels)?.value ?? 0);
  }
  /** Cumulative count of a histogram bucket (undefined if absent). */
  bucket(name: string, labels: Labels, le: string): number | undefined {
    return this.value(`${name}_bucket`, { ...labels, le });
  }
  /** Value of a gauge/counter series (undefined if absent). */
  value(name: string, labels: Labels): number | undefined {
    const s = this.exact(name, labels);
    return s === undefined ? undefined : Number(s.value);
  }
  /** Label sets of a histogram's series whose labels include `match`. */
  series(name: string, match: Labels = {}): Labels[] {
    return (this.families.get(`${name}_count`) ?? [])
      .map((m) => m.labels ?? {})
      .filter((l) => Object.entries(match).every(([k, v]) => l[k] === v));
  }
  /** Sum of `_count` over every series of a histogram. */
  total(name: string): number {
    return (this.families.get(`${name}_count`) ?? []).reduce((a, s) => a + Number(s.value ?? 0), 0);
  }
}

export interface Running {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function listen(app: Koa): Promise<Running> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function scrape(running: Running, path = '/metrics'): Promise<Scrape> {
  const res = await fetch(running.url + path);
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
  return new Scrape(await res.text());
}

/** A request whose body is read to the end; resolves with status and body. */
export async function get(running: Running, path: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(running.url + path, init);
  return { status: res.status, body: await res.text() };
}

/**
 * Scrape once the duration histogram counts `total` requests (a response is counted when it closes on the
 * server, which can be just after the client has read it).
 */
export async function settled(running: Running, total: number): Promise<Scrape> {
  let last = await scrape(running);
  const until = Date.now() + 3000;
  while (last.total(DURATION) < total && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
    last = await scrape(running);
  }
  return last;
}
