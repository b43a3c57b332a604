// Runs inside a throwaway project (see ../otel-coexistence.mjs): @meterline/core from its packed tarball next to
// @opentelemetry/instrumentation-http of one OpenTelemetry line. Exits 1 on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  configure,
  meterlineProducer,
  PullReader,
  resetMeterline,
  setRoute,
  withMetrics,
} from '@meterline/core';

const require = createRequire(import.meta.url);
const instrumentation = new HttpInstrumentation();
instrumentation.enable();
const http = require('node:http'); // through the CommonJS loader the instrumentation hooks

function get(base, path) {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Four measured requests; the scrape must hold one server-duration family, meterline's, with the route. */
async function run(label, setUp) {
  const { before = 0, control } = await setUp();
  const server = http.createServer(
    withMetrics((req, res) => {
      setRoute(req, '/items/:id');
      res.end('item');
    }),
  );
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  if (control) await control(base);
  for (let i = 0; i < 4; i++) await get(base, `/items/${i}`);
  await new Promise((r) => setTimeout(r, 20));
  const text = await (await fetch(`${base}/metrics`)).text();
  const samples = text.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count'));
  assert.equal(samples.length, 1, `${label}: one series, got\n${samples.join('\n')}`);
  assert.match(samples[0], /http_route="\/items\/:id"/, label);
  assert.match(samples[0], new RegExp(` ${before + 4}$`), label);
  assert.equal(text.match(/^# TYPE http_server_request_duration_seconds /gm)?.length, 1, label);
  assert.match(
    text,
    /^http_client_request_duration_seconds_count/m,
    `${label}: the instrumentation is active`,
  );
  await new Promise((r) => server.close(r));
  await resetMeterline();
  console.log(`ok ${label}`);
}

await run("meterline's MeterProvider", async () => {
  instrumentation.setMeterProvider(configure({ serviceName: 'coexistence' }).meterProvider);
  return {};
});
await run("the app's own MeterProvider", async () => {
  const reader = new PullReader({ metricProducers: [meterlineProducer] });
  const meterProvider = new MeterProvider({ readers: [reader] });
  configure({ meterProvider, reader });
  instrumentation.setMeterProvider(meterProvider);
  return {
    before: 1,
    // the control: the instrumentation's own server duration is there before meterline's collection drops it
    control: async (base) => {
      await get(base, '/items/x');
      const raw = await reader.collect();
      const scope = raw.resourceMetrics.scopeMetrics.find(
        (s) => s.scope.name === '@opentelemetry/instrumentation-http',
      );
      assert.ok(
        scope?.metrics.some((m) => m.descriptor.name === 'http.server.request.duration'),
        'control',
      );
    },
  };
});
instrumentation.disable();
