import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { resetMeterline } from '@meterline/core';
import { scrape, Scrape } from '@meterline/testing';
import metricsDefault, { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';
const base = { http_request_method: 'GET', url_scheme: 'http', network_protocol_version: '1.1' };

const open: FastifyInstance[] = [];
async function listen(app: FastifyInstance): Promise<string> {
  open.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}
async function hit(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

afterEach(async () => {
  for (const app of open.splice(0)) {
    app.server.closeAllConnections();
    await app.close();
  }
  await resetMeterline();
});

describe('fastify: options', () => {
  it('exports the plugin as default and named, with the fastify-plugin metadata', () => {
    expect(metricsDefault).toBe(metrics);
    const meta = (metrics as unknown as Record<symbol, { name: string; fastify: string }>)[Symbol.for('plugin-meta')];
    expect(meta.name).toBe('@meterline/fastify');
    expect(meta.fastify).toBe('4.x || 5.x');
  });

  it('serves the metrics at another path, not measured, and accepts register() options such as prefix', async () => {
    const app = Fastify();
    await app.register(metrics, { path: '/internal/prom', exclude: ['/ping', /^\/debug/], prefix: '/ignored' });
    app.get('/ping', async () => 'pong');
    app.get('/debug/vars', async () => ({}));
    app.get('/work', async () => 'done');
    const url = await listen(app);
    expect(await hit(url + '/metrics')).toBe(404);
    expect(await hit(url + '/ping')).toBe(200);
    expect(await hit(url + '/debug/vars')).toBe(200);
    expect(await hit(url + '/debug/nothing-here')).toBe(404);
    expect(await hit(url + '/work')).toBe(200);
    const { status, scrape: s } = await scrape(url + '/internal/prom');
    expect(status).toBe(200);
    expect(s.count(DURATION, { ...base, http_route: '/work', http_response_status_code: '200' })).toBe(1);
    // /metrics is an ordinary 404 here; excluded routes and the excluded unmatched path leave no trace
    expect(s.count(DURATION, { ...base, http_response_status_code: '404' })).toBe(1);
    expect(s.samples(DURATION)).toHaveLength(2);
  });

  it('serves nothing with path: false, and the shared runtime still records', async () => {
    const app = Fastify();
    await app.register(metrics, { path: false });
    app.get('/work', async () => 'done');
    const url = await listen(app);
    expect(await hit(url + '/metrics')).toBe(404);
    expect(await hit(url + '/work')).toBe(200);
    const { getMeterline } = await import('@meterline/core');
    const s = new Scrape(await getMeterline().scrape());
    expect(s.count(DURATION, { ...base, http_route: '/work', http_response_status_code: '200' })).toBe(1);
    expect(s.count(DURATION, { ...base, http_response_status_code: '404' })).toBe(1);
  });

  it('protects the endpoint with auth', async () => {
    const app = Fastify();
    await app.register(metrics, { auth: { bearerToken: 's3cret' } });
    const url = await listen(app);
    expect(await hit(url + '/metrics')).toBe(401);
    const ok = await scrape(url + '/metrics', { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
  });

  it('throws at registration on bad options, naming the option', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ path: 'metrics' }, /option "path"/],
      [{ exclude: '/health' }, /option "exclude"/],
      [{ gzip: 'yes' }, /option "gzip"/],
      [{ pathh: '/m' }, /unknown option "pathh"/],
    ];
    for (const [options, message] of cases) {
      const app = Fastify();
      await expect(app.register(metrics, options as never)).rejects.toThrow(message);
      const again = Fastify();
      again.register(metrics, options as never);
      await expect(again.ready()).rejects.toThrow(message);
    }
  });
});
