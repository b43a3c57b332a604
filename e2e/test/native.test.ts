// End to end: native histograms and exemplars under the real Prometheus. A demo server in this process (core's
// `withMetrics`, `nativeHistograms: true`) serves requests that the test makes inside spans, their trace context
// carried in `traceparent` to a server span, as HTTP instrumentation does. Two Prometheus servers scrape it every
// second: one with `--enable-feature=native-histograms,exemplar-storage` (negotiates protobuf), one with
// `exemplar-storage` only (negotiates OpenMetrics). Everything is asserted through Prometheus' HTTP API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { configure, setRoute, withMetrics } from '@meterline/core';
import { nativeRecordingNames } from '@meterline/rules';
import { until } from '@meterline/testing';
import { registerTestTracing, traceHeaders, withServerSpan, type TestTracing } from '@meterline/testing/tracing';
import { INSTALL_HINT, missingBinaries, startStack } from '../../scripts/stack.mjs';

const require = createRequire(import.meta.url);
const NATIVE_RULES = require.resolve('@meterline/rules/rules/meterline.native.rules.yml');
const JOB = 'native-demo';
const REQUESTS = 150;
const CONCURRENCY = 10;

type Stack = Awaited<ReturnType<typeof startStack>>;
let native: Stack | undefined;
let openMetrics: Stack | undefined;
let server: Server | undefined;
let tracing: TestTracing | undefined;
/** trace ids of the spans the load was sent in */
const loadTraceIds = new Set<string>();
/** durations the server saw for the load's requests (seconds), measured around the listener */
const loadDurations: number[] = [];
let measuring = false;
const timings: Record<string, number> = {};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NativeValue {
  count: string;
  sum: string;
  /** [boundary rule, lower, upper, count] */
  buckets: Array<[number, string, string, string]>;
}
interface Row {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, NativeValue];
}

async function query(stack: Stack, expr: string): Promise<Row[]> {
  const res = await fetch(`${stack.urls.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Row[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}
async function exemplars(stack: Stack, expr: string, sinceS: number): Promise<ExemplarSeries[]> {
  const url = `${stack.urls.prometheus}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${sinceS}&end=${Date.now() / 1000 + 60}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data: ExemplarSeries[];
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data ?? [];
}

/**
 * Polls the exemplars of `expr` in `stack` until `enough` holds for the trace ids among them that are the load's
 * (one entry per exemplar); on timeout the error lists the trace ids seen last.
 */
async function loadExemplars(
  what: string,
  stack: Stack,
  expr: string,
  enough: (loadIds: string[]) => boolean,
): Promise<ExemplarSeries[]> {
  let last: string[] = [];
  return until(what, 20_000, async () => {
    const series = await exemplars(stack, expr, loadStartS - 5);
    last = series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
    return enough(last.filter((id) => loadTraceIds.has(id))) ? series : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; trace ids seen: ${JSON.stringify(last)}`);
  });
}

/** Deterministic request durations (ms), 5-300, spread over two decades. */
function plannedWaits(n: number): number[] {
  const out: number[] = [];
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(Math.round(5 * 60 ** (s / 2147483648)));
  }
  return out;
}

/** One request inside a client span; returns the span's trace id. */
async function tracedRequest(base: string, ms: number): Promise<string> {
  return tracing!.tracer.startActiveSpan('client', async () => {
    const headers = traceHeaders();
    const res = await fetch(`${base}/work?ms=${ms}`, { headers });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    return headers.traceparent.split('-')[1];
  });
}

const nativeCount = async (stack: Stack): Promise<number | undefined> => {
  const [row] = await query(stack, `histogram_count(http_server_request_duration_seconds{job="${JOB}"})`);
  return row === undefined ? undefined : Number(row.value![1]);
};
const classicCount = async (stack: Stack): Promise<number | undefined> => {
  const [row] = await query(stack, `sum(http_server_request_duration_seconds_count{job="${JOB}"})`);
  return row === undefined ? undefined : Number(row.value![1]);
};

let base = '';
let loadStartS = 0;

beforeAll(async () => {
  const missing = missingBinaries();
  if (missing.length > 0) throw new Error(`the end-to-end tests need ${missing.join(', ')}: ${INSTALL_HINT}`);
  configure({ serviceName: JOB, nativeHistograms: true });
  tracing = registerTestTracing();
  const listener = withMetrics(async (req, res) => {
    const started = performance.now();
    if (measuring) res.on('close', () => loadDurations.push((performance.now() - started) / 1000));
    setRoute(req, '/work');
    await sleep(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0));
    res.end('done');
  });
  server = createServer((req, res) => withServerSpan(tracing!.tracer, req.headers, () => listener(req, res)));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${target}`;

  const common = {
    targets: [{ job: JOB, targets: [target] }],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  };
  [native, openMetrics] = await Promise.all([
    startStack({
      ...common,
      ruleFiles: [NATIVE_RULES],
      prometheusFlags: ['--enable-feature=native-histograms,exemplar-storage'],
    }),
    startStack({ ...common, prometheusFlags: ['--enable-feature=exemplar-storage'] }),
  ]);
  const ready = Date.now();

  // warm-up: the series exists and is scraped before the load, so rate() over the window sees exactly the load
  await tracedRequest(base, 1);
  await until('the warm-up in both Prometheus servers', 30_000, async () =>
    (await nativeCount(native!)) === 1 && (await classicCount(openMetrics!)) === 1 ? true : undefined,
  );
  timings.firstScrapesMs = Date.now() - ready;

  measuring = true;
  loadStartS = Date.now() / 1000;
  const waits = plannedWaits(REQUESTS);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      // paced over ~6 s: Prometheus 2.4x stores one exemplar per native histogram and scrape
      while (next < waits.length) {
        loadTraceIds.add(await tracedRequest(base, waits[next++]));
        await sleep(300);
      }
    }),
  );
  measuring = false;
  timings.loadMs = Math.round((Date.now() / 1000 - loadStartS) * 1000);
  await until('the load in both Prometheus servers', 30_000, async () =>
    (await nativeCount(native!)) === REQUESTS + 1 && (await classicCount(openMetrics!)) === REQUESTS + 1
      ? true
      : undefined,
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([native?.stop(), openMetrics?.stop()]);
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  tracing?.disable();
  console.log('e2e native timings:', JSON.stringify(timings));
});

describe('native histograms and exemplars under real Prometheus', () => {
  it('the native p95 is within one native bucket of the p95 of the recorded durations', async () => {
    expect(loadDurations).toHaveLength(REQUESTS);
    const sorted = [...loadDurations].sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.95 * sorted.length) - 1];
    const [row] = await query(
      native!,
      'histogram_quantile(0.95, rate(http_server_request_duration_seconds[1m]))',
    );
    const p95 = Number(row.value![1]);
    // the native buckets as Prometheus stores them: the bucket holding the exact p95 bounds the estimate
    const [h] = await query(native!, `http_server_request_duration_seconds{job="${JOB}"}`);
    const buckets = h.histogram![1].buckets.map(([, lo, hi, n]) => [Number(lo), Number(hi), Number(n)]);
    // the recorder's clock starts a little before the listener's: allow 2 ms at the bucket's edges
    const slack = 0.002;
    const holding = buckets.find(([lo, hi]) => exact > lo && exact <= hi)!;
    expect(holding, `a native bucket holding ${exact}`).toBeDefined();
    const [lo, hi] = holding;
    const schema = -Math.log2(Math.log2(hi / lo));
    timings.schema = Math.round(schema);
    timings.p95Native = p95;
    timings.p95Exact = exact;
    // within the native bucket error: the width of the bucket holding the exact p95
    expect(Math.abs(p95 - exact)).toBeLessThanOrEqual(hi - lo + slack);
    // the native buckets are finer than the classic ones around the p95 (0.1-0.25 s and 0.25-0.5 s there)
    expect(hi / lo).toBeLessThan(1.1);
    // the shipped native recording rule (5m window) says the same
    const rule = nativeRecordingNames().routeP95;
    const recorded = await until(rule, 15_000, async () => {
      const [r] = await query(native!, `${rule}{job="${JOB}", http_route="/work"}`);
      return r === undefined ? undefined : Number(r.value![1]);
    });
    expect(Math.abs(recorded - exact)).toBeLessThanOrEqual(hi - lo + slack);
    // the classic series of the same histogram, scraped as OpenMetrics by the other server, agree on the count
    const [classic] = await query(
      openMetrics!,
      `histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="${JOB}"}[1m])))`,
    );
    expect(Number(classic.value![1])).toBeGreaterThan(0);
  });

  it('Prometheus before 2.45 keeps the native series only; classic-only histograms stay classic', async () => {
    const info = (await (await fetch(`${native!.urls.prometheus}/api/v1/status/buildinfo`)).json()) as {
      data: { version: string };
    };
    const [major, minor] = info.data.version.split('.').map(Number);
    timings.prometheusMinor = minor;
    // the connection-duration histogram has no native buckets: its classic series are stored as before
    expect(
      await query(native!, `network_server_connection_duration_seconds_count{job="${JOB}"}`),
    ).not.toEqual([]);
    if (major === 2 && minor < 45) {
      // no `scrape_classic_histograms` yet: a histogram with native buckets is stored as its native series only
      expect(await query(native!, `http_server_request_duration_seconds_count{job="${JOB}"}`)).toEqual([]);
    }
  });

  it('query_exemplars returns the trace ids of the requests made inside spans (protobuf scrape)', async () => {
    // Prometheus keeps the exemplars of a native histogram on its one series (no `_bucket` series)
    const found = await loadExemplars(
      'exemplars in the native-histogram server',
      native!,
      `http_server_request_duration_seconds{job="${JOB}"}`,
      (ids) => new Set(ids).size >= 3,
    );
    const all = found.flatMap((s) => s.exemplars);
    timings.nativeExemplars = all.length;
    for (const e of all) {
      expect(e.labels.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(e.labels.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(Number(e.value)).toBeGreaterThan(0);
    }
    // every exemplar is one of the test's requests (the load or the warm-up)
    const unknown = all.filter((e) => !loadTraceIds.has(e.labels.trace_id)).length;
    expect(unknown).toBeLessThanOrEqual(1);
  });

  it('OpenMetrics scrape: up, classic buckets and exemplars on them', async () => {
    const [up] = await query(openMetrics!, `up{job="${JOB}"}`);
    expect(up.value![1]).toBe('1');
    const found = await loadExemplars(
      'exemplars in the OpenMetrics server',
      openMetrics!,
      `http_server_request_duration_seconds_bucket{job="${JOB}"}`,
      (ids) => ids.length >= 5,
    );
    timings.openMetricsExemplars = found.flatMap((s) => s.exemplars).length;
    // one exemplar per classic bucket: an exemplar's value lies within its bucket's le
    for (const s of found) {
      const le = Number(s.seriesLabels.le === '+Inf' ? Infinity : s.seriesLabels.le);
      for (const e of s.exemplars) expect(Number(e.value)).toBeLessThanOrEqual(le);
    }
    // the counter family keeps its `_total` samples in OpenMetrics
    expect(await query(openMetrics!, `meterline_cardinality_overflow_total{job="${JOB}"}`)).toHaveLength(3);
  });
});
