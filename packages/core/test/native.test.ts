// Native histograms, exemplars and the negotiated exposition formats, through a real server and real scrapes: the
// protobuf body is decoded with protobufjs against client_model's metrics.proto (vendored in fixtures/).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheck } from '@meterline/testing';
// tracing helpers on their own subpath: their OpenTelemetry packages are not installed where the suite is copied
import { registerTestTracing, traceHeaders, withServerSpan, type TestTracing } from '@meterline/testing/tracing';
import { configure, getMeterline, setRoute, withMetrics } from '../src/index.js';
import { exponentialBounds, ExponentialHistogram } from '../src/exponential-histogram.js';
import { negotiate } from '../src/negotiation.js';
import { Meterline } from '../src/runtime.js';

const PROTOBUF_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const root = dirname(fileURLToPath(import.meta.url));
let MetricFamily: protobuf.Type;
let server: Server;
let base: string;
let tracing: TestTracing;
/** trace ids of the traced requests the client made */
const tracedIds = new Set<string>();
/** the durations the server saw, seconds, from its own 'close' listener */
const durations: number[] = [];

interface DecodedExemplar {
  label: Array<{ name: string; value: string }>;
  value: number;
  timestamp?: { seconds: number; nanos: number };
}
interface DecodedFamily {
  name: string;
  help: string;
  type: number;
  metric: Array<{
    label: Array<{ name: string; value: string }>;
    counter?: { value: number };
    gauge?: { value: number };
    histogram?: {
      sampleCount: number;
      sampleSum: number;
      bucket: Array<{
        cumulativeCount: number;
        upperBound: number;
        exemplar?: {
          label: Array<{ name: string; value: string }>;
          value: number;
          timestamp?: { seconds: number; nanos: number };
        };
      }>;
      schema?: number;
      zeroThreshold?: number;
      zeroCount?: number;
      positiveSpan: Array<{ offset: number; length: number }>;
      positiveDelta: number[];
      exemplars: DecodedExemplar[];
    };
  }>;
}

function decodeDelimited(body: Buffer): DecodedFamily[] {
  const reader = protobuf.Reader.create(body);
  const out: DecodedFamily[] = [];
  while (reader.pos < reader.len) {
    const message = MetricFamily.decodeDelimited(reader);
    out.push(
      MetricFamily.toObject(message, { longs: Number, defaults: false, arrays: true }) as DecodedFamily,
    );
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(base + path, { headers });
  await res.clone().arrayBuffer();
  return res;
}

beforeAll(async () => {
  const root2 = await protobuf.load(join(root, 'fixtures', 'metrics.proto'));
  MetricFamily = root2.lookupType('io.prometheus.client.MetricFamily');
  configure({ serviceName: 'native-test', nativeHistograms: true });
  tracing = registerTestTracing();
  const measured = withMetrics(async (req, res) => {
    const started = performance.now();
    res.on('close', () => durations.push((performance.now() - started) / 1000));
    const m = /^\/wait\/(\d+)$/.exec(req.url ?? '');
    if (m !== null) {
      setRoute(req, '/wait/:ms');
      await sleep(Number(m[1]));
      res.end('waited');
      return;
    }
    setRoute(req, '/plain');
    res.end('ok');
  });
  // the server span comes from the request's traceparent, as HTTP instrumentation would make it
  // requests without a traceparent get no span here: the untraced case
  server = createServer((req, res) =>
    req.headers.traceparent === undefined
      ? measured(req, res)
      : withServerSpan(tracing.tracer, req.headers, () => measured(req, res)),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  for (const ms of [1, 5, 20, 40, 80, 120]) {
    await tracing.tracer.startActiveSpan('client', async () => {
      tracedIds.add(traceHeaders().traceparent.split('-')[1]);
      await get(`/wait/${ms}`, traceHeaders());
    });
  }
  await get('/plain'); // no span: no exemplar
});

afterAll(async () => {
  tracing.disable();
  await new Promise((r) => server.close(r));
});

describe('negotiation on Accept', () => {
  it('answers what Prometheus asks for, and 0.0.4 text otherwise', () => {
    expect(negotiate(PROTOBUF_ACCEPT).name).toBe('protobuf');
    expect(negotiate(OPENMETRICS_ACCEPT).name).toBe('openmetrics');
    expect(negotiate(OPENMETRICS_ACCEPT).contentType).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    expect(negotiate(undefined).name).toBe('text');
    expect(negotiate('*/*').name).toBe('text');
    expect(negotiate('text/plain;version=0.0.4').name).toBe('text');
    expect(negotiate('application/json').name).toBe('text');
    // weights decide, not order; unknown protobuf messages and q=0 are not accepted
    expect(negotiate('text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.9').name).toBe(
      'openmetrics',
    );
    expect(negotiate('application/vnd.google.protobuf;proto=other.Message;encoding=delimited').name).toBe(
      'text',
    );
    expect(negotiate('application/openmetrics-text;q=0, text/plain').name).toBe('text');
    expect(negotiate('application/openmetrics-text; version=0.0.1').contentType).toContain('version=0.0.1');
  });
});

describe('the exponential histogram', () => {
  it('puts each value in the bucket whose bounds hold it, and counts zeros apart', () => {
    const h = new ExponentialHistogram(3, 1000);
    const values = [0, 0.001, 0.0123, 0.5, 1, 1.5, 2, 3.75, 1000];
    for (const v of values) h.record(v);
    expect(h.zeroCount).toBe(1);
    expect(h.scale).toBe(3);
    for (const v of values.slice(1)) {
      const index = Math.ceil(Math.log2(v) * 8) - 1;
      const [lo, hi] = exponentialBounds(3, index);
      expect(v).toBeGreaterThan(lo * (1 - 1e-12));
      expect(v).toBeLessThanOrEqual(hi * (1 + 1e-12));
      expect(h.counts[index - h.offset]).toBeGreaterThanOrEqual(1);
    }
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(values.length - 1);
    // exact powers of two are upper bounds: 1 is in (2^-1/8, 1], 2 in (2^7/8, 2]
    expect(h.counts[-1 - h.offset]).toBe(1);
  });

  it('halves its resolution when the values would need more than maxBuckets buckets', () => {
    const h = new ExponentialHistogram(8, 20);
    h.record(1.01);
    expect(h.scale).toBe(8);
    h.record(1000); // 10 octaves: 2560 buckets at scale 8, 20 allowed: scale 1 (2 buckets an octave)
    expect(h.scale).toBe(1);
    expect(h.counts.length).toBeLessThanOrEqual(20);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(2);
    for (let v = 1.5; v < 1000; v *= 1.7) h.record(v);
    const [lo] = exponentialBounds(h.scale, h.offset);
    expect(lo).toBeLessThan(1.01);
    expect(h.counts.length).toBeLessThanOrEqual(20);
  });
});

describe('the scrape formats', () => {
  it('a plain scrape is the 0.0.4 text format, as before: no exemplars, promtool-clean', async () => {
    const res = await get('/metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('vary')).toBe('Accept, Accept-Encoding');
    const text = await res.text();
    expect(text).toContain('http_server_request_duration_seconds_bucket{');
    expect(text).not.toContain('trace_id');
    expect(text).not.toContain('# EOF');
    expect(promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it('OpenMetrics: TYPE on the family name, units, exemplars of the traced requests, # EOF', async () => {
    const res = await get('/metrics', { accept: OPENMETRICS_ACCEPT });
    expect(res.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const text = await res.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain(
      '# TYPE http_server_request_duration_seconds histogram\n# UNIT http_server_request_duration_seconds seconds\n',
    );
    expect(text).toContain('# TYPE meterline_cardinality_overflow counter\n');
    expect(text).toMatch(/^meterline_cardinality_overflow_total\{attribute="http\.route"\} 0$/m);
    expect(text).not.toContain('_created');
    const exemplars = [
      ...text.matchAll(
        /^http_server_request_duration_seconds_bucket\{(.*)\} (\d+) # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} ([0-9.e-]+) (\d+\.\d{3})$/gm,
      ),
    ];
    expect(exemplars.length).toBeGreaterThanOrEqual(4);
    for (const e of exemplars) {
      expect(e[1]).toContain('http_route="/wait/:ms"');
      expect(tracedIds.has(e[3])).toBe(true);
      // the exemplar's value lies in its bucket
      const le = /le="([^"]+)"/.exec(e[1])![1];
      expect(Number(e[5])).toBeLessThanOrEqual(le === '+Inf' ? Infinity : Number(le));
      expect(Math.abs(Number(e[6]) - Date.now() / 1000)).toBeLessThan(60);
    }
    // the untraced request has no exemplar anywhere
    expect(text).not.toMatch(/http_route="\/plain".*# \{/);
    // the same samples as the 0.0.4 text, as its parser sees them (without exemplars and OpenMetrics-only comments)
    let asText = text.replace(/ # \{.*$/gm, '').replace(/^# (UNIT|EOF).*\n/gm, '');
    asText = asText.replace(
      '# TYPE target info\n# HELP target ',
      '# TYPE target_info gauge\n# HELP target_info ',
    );
    for (const [, name] of text.matchAll(/^# TYPE (\S+) counter$/gm)) {
      asText = asText.replace(
        `# TYPE ${name} counter\n# HELP ${name} `,
        `# TYPE ${name}_total counter\n# HELP ${name}_total `,
      );
    }
    expect(promtoolCheck(asText)).toEqual({ code: 0, output: '' });
  });

  it('protobuf: classic buckets, native buckets and exemplars in one Histogram message', async () => {
    const res = await get('/metrics', { accept: PROTOBUF_ACCEPT });
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
    );
    const families = decodeDelimited(Buffer.from(await res.arrayBuffer()));
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(byName.get('meterline_cardinality_overflow_total')?.type).toBe(0); // COUNTER
    expect(byName.get('http_server_active_requests')?.type).toBe(1); // GAUGE
    const duration = byName.get('http_server_request_duration_seconds')!;
    expect(duration.type).toBe(4); // HISTOGRAM
    const waits = duration.metric.find((m) =>
      m.label.some((l) => l.name === 'http_route' && l.value === '/wait/:ms'),
    )!;
    const h = waits.histogram!;
    expect(h.sampleCount).toBe(6);
    expect(h.bucket.at(-1)).toMatchObject({ upperBound: Infinity, cumulativeCount: 6 });
    expect(h.bucket.map((b) => b.upperBound).slice(0, 3)).toEqual([0.005, 0.01, 0.025]);
    // native: scale 8 rescaled to fit 160 buckets; the deltas add up to the count
    expect(h.schema).toBeLessThanOrEqual(8);
    expect(h.zeroThreshold).toBe(2 ** -128);
    let running = 0;
    let total = 0;
    for (const d of h.positiveDelta) {
      running += d;
      expect(running).toBeGreaterThanOrEqual(0);
      total += running;
    }
    expect(total + (h.zeroCount ?? 0)).toBe(6);
    expect(h.positiveSpan.reduce((a, s) => a + s.length, 0)).toBe(h.positiveDelta.length);
    // each native bucket holds what the server measured: rebuild the buckets and compare with its durations
    const base = 2 ** (2 ** -h.schema!);
    const bounds: Array<[number, number, number]> = []; // lower, upper, count
    let index = 0;
    let k = 0;
    running = 0;
    for (const [s, span] of h.positiveSpan.entries()) {
      index = s === 0 ? span.offset : index + span.offset;
      for (let j = 0; j < span.length; j++, index++, k++) {
        running += h.positiveDelta[k];
        if (running > 0) bounds.push([base ** (index - 1), base ** index, running]);
      }
    }
    const waited = durations.slice(0, 6);
    for (const [lo, hi, n] of bounds) {
      // the test's clock starts inside the listener, the recorder's before it (~0.5 ms earlier on a cold request,
      // more when the machine preempts the process in between): allow 5 ms at the edges
      const inside = waited.filter((d) => d > lo - 5e-3 && d <= hi + 5e-3).length;
      expect(inside, `bucket (${lo}, ${hi}]`).toBeGreaterThanOrEqual(n);
    }
    // exemplars: every kept one in the native field, by time; on the classic buckets only the newest (Prometheus
    // 2.4x ingests the first bucket exemplar of a native histogram per scrape: older ones would hide it)
    expect(h.exemplars.length).toBeGreaterThanOrEqual(4);
    const times = h.exemplars.map((e) => e.timestamp!.seconds * 1e3 + e.timestamp!.nanos / 1e6);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const e of h.exemplars) {
      const labels = Object.fromEntries(e.label.map((l) => [l.name, l.value]));
      expect(tracedIds.has(labels.trace_id)).toBe(true);
      expect(labels.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(Math.abs(e.timestamp!.seconds - Date.now() / 1000)).toBeLessThan(60);
    }
    const onBuckets = h.bucket.filter((b) => b.exemplar !== undefined);
    expect(onBuckets).toHaveLength(1);
    expect(onBuckets[0].exemplar).toEqual(h.exemplars.at(-1));
    expect(onBuckets[0].exemplar!.value).toBeLessThanOrEqual(onBuckets[0].upperBound);
    expect(onBuckets[0].exemplar!.value).toBeGreaterThan(0.1); // the 120 ms request came last
    const plain = duration.metric.find((m) => m.label.some((l) => l.value === '/plain'))!;
    expect(plain.histogram!.bucket.every((b) => b.exemplar === undefined)).toBe(true);
    // resource attributes as target_info, as in the text formats
    expect(
      byName
        .get('target_info')
        ?.metric[0].label.some((l) => l.name === 'service_name' && l.value === 'native-test'),
    ).toBe(true);
  });

  it('gzip applies to every format', async () => {
    const res = await fetch(base + '/metrics', {
      headers: { accept: PROTOBUF_ACCEPT, 'accept-encoding': 'gzip' },
    });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(decodeDelimited(Buffer.from(await res.arrayBuffer())).length).toBeGreaterThan(3);
  });

  it('nothing is kept for exemplars by a histogram without traced requests', () => {
    const series = getMeterline().store.allSeries;
    const plain = series.find((s) => s.attributes['http.route'] === '/plain')!;
    expect(plain.duration.exemplars).toBeUndefined();
    expect(plain.duration.native).toBeDefined();
    expect(plain.requestSize.native!.zeroCount).toBe(1); // an empty body: the zero bucket
  });
});

describe('the nativeHistograms option', () => {
  it('fails fast naming the option', () => {
    expect(() => new Meterline({ nativeHistograms: { scale: 9 } })).toThrow(/"nativeHistograms.scale" is 9/);
    expect(() => new Meterline({ nativeHistograms: { maxBuckets: 1 } })).toThrow(
      /"nativeHistograms.maxBuckets"/,
    );
    expect(() => new Meterline({ nativeHistograms: 'yes' as never })).toThrow(/"nativeHistograms" is "yes"/);
    expect(() => new Meterline({ nativeHistograms: { scal: 3 } as never })).toThrow(/unknown option "scal"/);
  });

  it('off by default: no native buckets are kept', async () => {
    const runtime = new Meterline({ registerGlobal: false });
    const s = runtime.store.series(runtime.store.route('/x'), 0, 0, 1, 200, undefined);
    expect(s.duration.native).toBeUndefined();
    expect(s.duration.toPoint()).not.toHaveProperty('native');
    await runtime.shutdown();
  });
});
