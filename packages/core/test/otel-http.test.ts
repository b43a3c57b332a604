// Next to @opentelemetry/instrumentation-http in the same process: one http_server_request_duration_seconds family,
// meterline's (with routes), whether meterline made the MeterProvider or the app did; the instrumentation's other
// metrics (its client durations) stay.
import type * as Http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { scrape } from '@meterline/testing';
import {
  configure,
  meterlineProducer,
  PullReader,
  resetMeterline,
  setRoute,
  withMetrics,
} from '../src/index.js';

const require = createRequire(import.meta.url);
const instrumentation = new HttpInstrumentation();
// enabled before node:http is required through the CommonJS loader, which the instrumentation hooks
instrumentation.enable();
const http = require('node:http') as typeof Http;

let server: Http.Server | undefined;
let base: string;
/** The app, created after configure() (a middleware binds to the runtime when created). */
async function startServer(): Promise<void> {
  server = http.createServer(
    withMetrics((req, res) => {
      setRoute(req, '/items/:id');
      res.end('item');
    }),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
  await resetMeterline();
});
afterAll(() => instrumentation.disable());

/** GET through the instrumented http client (so the instrumentation records its client metric too). */
function get(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function measure(before = 0): Promise<void> {
  for (let i = 0; i < 4; i++) await get(`/items/${i}`);
  await new Promise((r) => setTimeout(r, 20)); // the client's metric is recorded after its response ends
  const { text, scrape: s } = await scrape(`${base}/metrics`);
  const series = s.samples('http_server_request_duration_seconds');
  // one series, meterline's: four requests, route template included; none without a route (the instrumentation's)
  expect(series.map((x) => x.labels?.http_route)).toEqual(['/items/:id']);
  expect(s.totalCount('http_server_request_duration_seconds')).toBe(before + 4);
  expect(text.match(/^# TYPE http_server_request_duration_seconds /gm)).toHaveLength(1);
  // the instrumentation is active, and its client metric is kept
  expect(s.totalCount('http_client_request_duration_seconds')).toBeGreaterThanOrEqual(before + 4);
}

describe('@opentelemetry/instrumentation-http in the same process', () => {
  it("is stepped back from on meterline's MeterProvider (a View drops its server duration)", async () => {
    const runtime = configure({ serviceName: 'otel-http' });
    instrumentation.setMeterProvider(runtime.meterProvider);
    await startServer();
    await measure();
  });

  it("is stepped back from on the app's own MeterProvider (its server duration is dropped at collection)", async () => {
    const reader = new PullReader({ metricProducers: [meterlineProducer] });
    const meterProvider = new MeterProvider({ readers: [reader] });
    configure({ meterProvider, reader });
    instrumentation.setMeterProvider(meterProvider);
    await startServer();
    // the control: without meterline's filter the instrumentation's own series is there
    await get('/items/x');
    const raw = await reader.collect();
    const scope = raw.resourceMetrics.scopeMetrics.find(
      (m) => m.scope.name === '@opentelemetry/instrumentation-http',
    );
    expect(scope?.metrics.map((m) => m.descriptor.name)).toContain('http.server.request.duration');
    await measure(1);
  });
});
