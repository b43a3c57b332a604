/**
 * What a NestJS app adds to the conformance suite (apps/nest-module.ts): routes under a global prefix and URI
 * versions, and exceptions answered by Nest's exception filter, which the adapter never sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, type Scrape } from '@meterline/testing';
import { DURATION, series, type ConformanceApp, type RunningApp } from './scenarios.js';

export function nestScenarios(app: ConformanceApp): void {
  let running: RunningApp;
  let base: string;
  async function status(path: string): Promise<number> {
    const res = await fetch(base + path);
    await res.arrayBuffer();
    return res.status;
  }
  async function metricsNow(): Promise<Scrape> {
    const r = await scrape(base + '/metrics');
    expect(r.status).toBe(200);
    return r.scrape;
  }

  describe(`${app.name}: NestJS routes and exceptions`, () => {
    beforeAll(async () => {
      running = await app.start();
      base = `http://127.0.0.1:${running.port}`;
    });
    afterAll(async () => {
      await running.close();
    });

    it('the templates Nest registers, global prefix and URI version included, reach http.route', async () => {
      // the runtime is the process's: earlier suites' 404s are in it too
      const unmatched = (await metricsNow()).count(DURATION, series('GET', undefined, 404));
      expect(await status('/api/v1/users/7')).toBe(200);
      expect(await status('/api/v1/users/8')).toBe(200);
      expect(await status('/api/v2/users/7')).toBe(200);
      // no such version, no prefix: Nest's 404, without a route
      expect(await status('/api/v3/users/7')).toBe(404);
      expect(await status('/users/7')).toBe(404);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/api/v1/users/:id', 200))).toBe(2);
      expect(s.count(DURATION, series('GET', '/api/v2/users/:id', 200))).toBe(1);
      expect(s.count(DURATION, series('GET', undefined, 404)) - unmatched).toBe(2);
      for (const m of s.samples(DURATION)) expect(m.labels?.http_route ?? '').not.toMatch(/\/users\/\d|\/v3\//);
    });

    it("exceptions answered by Nest's filter: 4xx without error.type, 5xx with the status code", async () => {
      expect(await status('/api/v1/users/missing')).toBe(404);
      expect(await status('/api/v1/users/busy')).toBe(503);
      expect(await status('/api/v1/users/gone')).toBe(500);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/api/v1/users/:id', 404))).toBe(1);
      expect(s.count(DURATION, series('GET', '/api/v1/users/:id', 503, { error_type: '503' }))).toBe(1);
      expect(s.count(DURATION, series('GET', '/api/v1/users/:id', 500, { error_type: '500' }))).toBe(1);
      expect(s.samples(DURATION, { error_type: 'UserGoneError' })).toHaveLength(0);
    });

    it('an interceptor that hands the exception over before the filter: error.type is its class', async () => {
      expect(await status('/api/v1/recorded/missing')).toBe(404);
      expect(await status('/api/v1/recorded/busy')).toBe(503);
      expect(await status('/api/v1/recorded/gone')).toBe(500);
      expect(await status('/api/v1/recorded/gone')).toBe(500);
      const s = await metricsNow();
      expect(s.count(DURATION, series('GET', '/api/v1/recorded/:id', 404))).toBe(1);
      expect(s.count(DURATION, series('GET', '/api/v1/recorded/:id', 503, { error_type: 'HttpException' }))).toBe(1);
      expect(s.count(DURATION, series('GET', '/api/v1/recorded/:id', 500, { error_type: 'UserGoneError' }))).toBe(2);
    });
  });
}
