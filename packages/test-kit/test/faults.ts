/**
 * Faults injected into the metrics path never break the app: every request still gets its normal response,
 * each fault is reported once through the error hook (not per request), and /metrics answers 500 with a short
 * message instead of hanging (a collection that never ends is cut at `timeoutMs`: see core's handler tests).
 */
import { metrics as otel } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { getMeterline, setErrorHook, startMetricsServer } from '@meterline/core';
import { eventually, scrape } from '@meterline/testing';
import type { ConformanceApp } from './scenarios.js';

export function faults(app: ConformanceApp): void {
  describe(`${app.name}: faults in the metrics path`, () => {
    it('a recording fault: requests unaffected, reported once', async () => {
      const running = await app.start();
      const base = `http://127.0.0.1:${running.port}`;
      const reports: string[] = [];
      setErrorHook((_err, where) => reports.push(where));
      const store = getMeterline().store;
      const original = store.series;
      store.series = () => {
        throw new Error('injected: the store broke');
      };
      try {
        for (let i = 0; i < 50; i++) {
          const res = await fetch(base + '/items/' + i);
          expect(res.status).toBe(200);
          expect(await res.json()).toEqual({ id: String(i) });
        }
        const thrown = await fetch(base + '/throw-async');
        expect(thrown.status).toBe(500);
        await thrown.text();
        await eventually(() => reports.length > 0);
        expect(reports.filter((r) => r === 'request finish')).toHaveLength(1);
      } finally {
        store.series = original;
        setErrorHook(undefined);
      }
      // and recording works again afterwards, in-flight back to zero
      await (await fetch(base + '/static')).text();
      const ok = await eventually(async () => {
        const s = (await scrape(base + '/metrics')).scrape;
        return s.samples('http_server_active_requests').every((m) => Number(m.value) === 0);
      });
      expect(ok).toBe(true);
      await running.close();
    });

    it('a throwing user callback and a hanging one: /metrics still answers in time, apps unaffected', async () => {
      const running = await app.start();
      const base = `http://127.0.0.1:${running.port}`;
      const reports: string[] = [];
      setErrorHook((_err, where) => reports.push(where));
      const meter = otel.getMeter('faulty');
      const broken = meter.createObservableGauge('faulty.gauge');
      const brokenCallback = () => {
        throw new Error('injected: callback broke');
      };
      broken.addCallback(brokenCallback);
      try {
        for (let i = 0; i < 3; i++) {
          const r = await scrape(base + '/metrics');
          expect(r.status).toBe(200);
          expect(r.text).toContain('http_server_request_duration_seconds');
        }
        expect(reports.filter((r) => r === 'metric collection')).toHaveLength(1);
      } finally {
        broken.removeCallback(brokenCallback);
      }

      const separate = await startMetricsServer({ port: 0, timeoutMs: 300 });
      const hanging = meter.createObservableGauge('hanging.gauge');
      const hangingCallback = () => new Promise<void>(() => undefined);
      hanging.addCallback(hangingCallback);
      try {
        // the SDK gives up on the hung callback at the scrape timeout and serves everything else
        const started = Date.now();
        const r = await scrape(separate.url);
        expect(Date.now() - started).toBeLessThan(5000);
        expect(r.status).toBe(200);
        expect(r.text).toContain('http_server_request_duration_seconds');
        expect(r.text).not.toContain('hanging_gauge');
        // the app itself keeps answering while a scrape hangs
        const ok = await fetch(base + '/static');
        expect(ok.status).toBe(200);
        await ok.text();
      } finally {
        hanging.removeCallback(hangingCallback);
        setErrorHook(undefined);
        await separate.close();
      }
      await running.close();
    });
  });
}
