import { metrics } from '@opentelemetry/api';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheck, scrape } from '@meterline/testing';
import { fileServer } from './helpers/file-server.js';
import {
  FAULT_COMPONENTS,
  Meterline,
  SCRAPE_RESULTS,
  configure,
  createMetricsHandler,
  getMeterline,
  withMetrics,
} from '../src/index.js';
import { faultComponentIndex } from '../src/faults.js';
import { reportOnce } from '../src/report.js';
import { selfMetricsOf } from '../src/self-metrics.js';

const server = fileServer();
let url: string;
let brokenGauge = false;
const warnings: string[] = [];

beforeAll(async () => {
  configure({ serviceName: 'self-test', onError: (_err, where) => warnings.push(where) });
  // a user instrument whose callback can be made to throw: a fault in the metrics path, at collection
  metrics
    .getMeter('app')
    .createObservableGauge('app.queue.depth')
    .addCallback((r) => {
      if (brokenGauge) throw new Error('queue unreachable');
      r.observe(1);
    });
  url = await server.start(
    withMetrics((_req, res) => res.end('ok'), {
      // a user callback that throws on every request: swallowed, logged once, counted every time
      attributes: (req) => {
        if (req.url === '/bad') throw new Error('attributes broke');
        return undefined;
      },
    }),
  );
});

describe('self-metrics', () => {
  it('a default app shows scrapes, scrape and collection duration, faults and overflow, promtool-clean', async () => {
    await (await fetch(url + '/')).text();
    await scrape(url + '/metrics');
    const r = await scrape(url + '/metrics');
    const s = r.scrape;
    expect(r.status).toBe(200);
    // the first scrape is counted when its body was handed out, so the second one sees it
    expect(s.value('meterline_scrapes_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    for (const result of SCRAPE_RESULTS) expect(s.exact('meterline_scrapes_total', { result })).toBeDefined();
    expect(s.count('meterline_scrape_duration_seconds', {})).toBeGreaterThanOrEqual(1);
    expect(s.count('meterline_collection_duration_seconds', {})).toBeGreaterThanOrEqual(1);
    for (const component of FAULT_COMPONENTS) {
      expect(s.exact('meterline_internal_faults_total', { component })).toBeDefined();
    }
    expect(s.exact('meterline_cardinality_overflow_total', { attribute: 'http.route' })).toBeDefined();
    // a process that never pushes shows no push families
    expect(r.text).not.toContain('meterline_push_');
    expect(r.text).toContain('# TYPE meterline_scrape_duration_seconds histogram');
    const check = promtoolCheck(r.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('counts every fault in the metrics path by component while logging each place once', async () => {
    const before = (await scrape(url + '/metrics')).scrape;
    for (let i = 0; i < 3; i++) await (await fetch(url + '/bad')).text();
    brokenGauge = true;
    await scrape(url + '/metrics');
    await scrape(url + '/metrics');
    brokenGauge = false;
    const after = (await scrape(url + '/metrics')).scrape;
    const moved = (component: string) =>
      after.value('meterline_internal_faults_total', { component }) -
      before.value('meterline_internal_faults_total', { component });
    expect(moved('attributes')).toBe(3);
    expect(moved('collection')).toBe(2);
    expect(moved('recorder')).toBe(0);
    expect(warnings.filter((w) => w === 'the attributes callback')).toHaveLength(1);
    expect(warnings.filter((w) => w === 'metric collection')).toHaveLength(1);
  });

  it('counts scrapes by result: unauthorized, overload, timeout, error', async () => {
    const rt = getMeterline();
    const self = selfMetricsOf(rt)!;
    const count = (result: string) => self.scrapes[SCRAPE_RESULTS.indexOf(result as never)];
    const guarded = createMetricsHandler({ auth: { bearerToken: 's3cret' } });
    const gate: { release?: () => void } = {};
    // a runtime whose collection waits for the test: concurrency and timeouts on demand
    const slow = Object.create(rt, {
      collect: {
        value: () => new Promise((resolve) => (gate.release = () => resolve(rt.collect()))),
      },
    }) as Meterline;
    const limited = createMetricsHandler({ maxConcurrentScrapes: 1 }, slow);
    const timing = createMetricsHandler({ timeoutMs: 50 }, slow);
    const failing = createMetricsHandler(
      {},
      Object.create(rt, { collect: { value: () => Promise.reject(new Error('x')) } }),
    );
    const srv = createServer((req, res) => {
      if (req.url === '/guarded') guarded(req, res);
      else if (req.url === '/limited') limited(req, res);
      else if (req.url === '/timing') timing(req, res);
      else failing(req, res);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const start = Object.fromEntries(SCRAPE_RESULTS.map((r) => [r, count(r)]));
      expect((await fetch(base + '/guarded')).status).toBe(401);
      expect((await fetch(base + '/guarded', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(
        200,
      );
      const first = fetch(base + '/limited');
      await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(base + '/limited')).status).toBe(503);
      gate.release!();
      expect((await first).status).toBe(200);
      expect((await fetch(base + '/timing')).status).toBe(500);
      gate.release!();
      expect((await fetch(base + '/failing')).status).toBe(500);
      await new Promise((r) => setTimeout(r, 50));
      const delta = (r: string) => count(r) - start[r];
      expect(delta('unauthorized')).toBe(1);
      expect(delta('overload')).toBe(1);
      expect(delta('timeout')).toBe(1);
      expect(delta('error')).toBe(1);
      expect(delta('ok')).toBe(2);
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });

  it('keeps the component label bounded whatever the place says', () => {
    expect(FAULT_COMPONENTS[faultComponentIndex('the attributes callback key "x"')]).toBe('attributes');
    expect(FAULT_COMPONENTS[faultComponentIndex('express route tracking')]).toBe('adapter');
    expect(FAULT_COMPONENTS[faultComponentIndex('scheduled push')]).toBe('jobs');
    expect(FAULT_COMPONENTS[faultComponentIndex('page history sample')]).toBe('handler');
    expect(FAULT_COMPONENTS[faultComponentIndex('setError')]).toBe('adapter');
    expect(FAULT_COMPONENTS[faultComponentIndex('anything new ' + Math.random())]).toBe('other');
    const self = selfMetricsOf(getMeterline())!;
    const before = self.metricData([0, 0]).find((m) => m.descriptor.name === 'meterline.internal_faults')!;
    reportOnce('anything new 1', new Error('a'));
    reportOnce('anything new 2', new Error('b'));
    const after = self.metricData([0, 0]).find((m) => m.descriptor.name === 'meterline.internal_faults')!;
    expect(after.dataPoints).toHaveLength(FAULT_COMPONENTS.length);
    const other = (m: typeof after) =>
      (m.dataPoints as { attributes: { component?: unknown }; value: number }[]).find(
        (p) => p.attributes.component === 'other',
      )!.value;
    expect(other(after) - other(before)).toBe(2);
  });

  it('selfMetrics: false leaves them out; a bad value fails naming the option', async () => {
    const quiet = new Meterline({ selfMetrics: false, registerGlobal: false });
    const names = quiet.store.collectScope().metrics.map((m) => m.descriptor.name);
    expect(names).toContain('meterline.cardinality.overflow');
    expect(names.filter((n) => n.startsWith('meterline.') && n !== 'meterline.cardinality.overflow')).toEqual(
      [],
    );
    expect(() => new Meterline({ selfMetrics: 'yes' as never })).toThrow(/selfMetrics/);
    await quiet.shutdown();
  });
});
