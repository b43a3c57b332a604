import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setErrorHook } from '@meterline/core';
import { promtoolCheck, scrape } from '@meterline/testing';
import { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';
let server: Server;
let url: string;
const reports: string[] = [];

beforeAll(async () => {
  setErrorHook((_err, where) => reports.push(where));
  const app = express();
  app.use(
    metrics({
      maxAttributeValues: 5,
      attributes: (req) => {
        const mode = req.headers['x-mode'];
        if (mode === 'throw') throw new Error('callback broke');
        if (mode === 'string') return 'junk' as never;
        if (mode === 'array') return ['a'] as never;
        if (mode === 'bad-values') return { nested: { a: 1 }, fn: () => 1, 'http.route': '/hijack', tier: 'gold' } as never;
        const tier = req.headers['x-tier'];
        return tier === undefined ? undefined : { tier: String(tier), beta: true };
      },
    }),
  );
  app.get('/items/:id', (_req, res) => {
    res.send('item');
  });
  await new Promise<void>((r) => {
    server = app.listen(0, '127.0.0.1', () => r());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  setErrorHook(undefined);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const base = {
  http_request_method: 'GET',
  http_route: '/items/:id',
  http_response_status_code: '200',
  url_scheme: 'http',
  network_protocol_version: '1.1',
};

it('adds the user attributes, caps their values, and survives a callback that throws or returns junk', async () => {
  const send = async (headers: Record<string, string>) => {
    const res = await fetch(url + '/items/1', { headers });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('item');
  };
  await send({ 'x-tier': 'gold' });
  await send({ 'x-tier': 'gold' });
  await send({});
  for (let i = 0; i < 40; i++) await send({ 'x-tier': `random-${i}` });
  for (const mode of ['throw', 'throw', 'string', 'array', 'bad-values']) await send({ 'x-mode': mode });
  const r = await scrape(url + '/metrics');
  const s = r.scrape;
  expect(s.count(DURATION, { ...base, tier: 'gold', beta: 'true' })).toBe(2);
  // no attributes: the plain series; the throwing and junk callbacks land here too
  expect(s.count(DURATION, base)).toBe(1 + 4);
  // the bad-values result keeps only its valid part
  expect(s.count(DURATION, { ...base, tier: 'gold' })).toBe(1);
  // 5 distinct values per key: gold + 4 random ones, the other 36 fold into __overflow__
  expect(s.count(DURATION, { ...base, tier: '__overflow__', beta: 'true' })).toBe(36);
  expect(s.samples(DURATION).length).toBeLessThanOrEqual(8);
  expect(s.value('meterline_cardinality_overflow_total', { attribute: 'attributes' })).toBe(36);
  expect(r.text).not.toContain('/hijack');
  // each fault reported once, not per request
  expect(reports.filter((w) => w === 'the attributes callback')).toHaveLength(1);
  expect(reports.filter((w) => w === 'the attributes callback result')).toHaveLength(1);
  expect(promtoolCheck(r.text).output).toBe('');
});

it('rejects a non-function callback at creation', () => {
  expect(() => metrics({ attributes: 'tier' as never })).toThrow(/option "attributes".*function/);
  expect(() => metrics({ maxAttributeValues: 0 })).toThrow(/maxAttributeValues/);
});
