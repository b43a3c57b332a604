// The `otlp` option with `protocol: 'http/protobuf'`: the -proto exporter, decoded by the receiver, same values.
import { metrics } from '@opentelemetry/api';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '@meterline/testing';
import { configure, resetMeterline, setRoute, withMetrics } from '../src/index.js';
import { OtlpReceiver } from './otlp-receiver.js';

const receiver = new OtlpReceiver();
let server: Server;

beforeAll(async () => {
  await receiver.start();
  configure({ otlp: { url: receiver.url, protocol: 'http/protobuf', intervalMs: 200, timeoutMs: 200 } });
  const jobs = metrics.getMeter('jobs').createCounter('jobs.done');
  server = createServer(
    withMetrics((req, res) => {
      setRoute(req, '/jobs/:id');
      jobs.add(3, { queue: 'mail' });
      res.end('ok');
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await resetMeterline();
  await receiver.stop();
});

it('pushes protobuf that decodes to the client counts', async () => {
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (let i = 0; i < 9; i++) await (await fetch(`${base}/jobs/${i}`)).arrayBuffer();
  expect(
    await eventually(
      () => receiver.total('http.server.request.duration', { 'http.route': '/jobs/:id' }) === 9,
      5000,
    ),
  ).toBe(true);
  expect(receiver.contentTypes).toEqual(new Set(['application/x-protobuf']));
  expect(receiver.total('jobs.done', { queue: 'mail' })).toBe(27);
  const duration = receiver.latest('http.server.request.duration')!;
  expect(duration.metric.histogram?.aggregationTemporality).toBe(2);
  const buckets = duration.points.reduce(
    (a, p) => a + (p.bucketCounts ?? []).reduce((x: number, c) => x + Number(c), 0),
    0,
  );
  expect(buckets).toBe(9);
  expect(duration.points[0].explicitBounds).toEqual([
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
  ]);
});
