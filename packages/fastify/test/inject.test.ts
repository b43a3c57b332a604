import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { Scrape } from '@meterline/testing';
import { metrics } from '../src/index.js';

const DURATION = 'http_server_request_duration_seconds';
const base = { url_scheme: 'http', network_protocol_version: '1.1' };

class InjectedError extends Error {}

describe('fastify: inject()', () => {
  it('measures injected requests like real ones, with no fake connections in the network metrics', async () => {
    const app = Fastify();
    await app.register(metrics);
    app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.post('/items', async (request, reply) => {
      reply.code(201);
      return { size: JSON.stringify(request.body).length };
    });
    app.get('/fail', async () => {
      throw new InjectedError('nope');
    });

    for (let i = 0; i < 5; i++) expect((await app.inject({ url: `/items/${i}` })).statusCode).toBe(200);
    const body = { name: 'x'.repeat(300) };
    const post = await app.inject({ method: 'POST', url: '/items', payload: body });
    expect(post.statusCode).toBe(201);
    expect((await app.inject({ url: '/fail' })).statusCode).toBe(500);
    expect((await app.inject({ url: '/missing' })).statusCode).toBe(404);

    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const s = new Scrape(res.body);
    const get = { http_request_method: 'GET', ...base };
    expect(s.count(DURATION, { ...get, http_route: '/items/:id', http_response_status_code: '200' })).toBe(5);
    expect(
      s.count(DURATION, { ...get, http_route: '/fail', http_response_status_code: '500', error_type: 'InjectedError' }),
    ).toBe(1);
    expect(s.count(DURATION, { ...get, http_response_status_code: '404' })).toBe(1);
    const postLabels = { http_request_method: 'POST', http_route: '/items', http_response_status_code: '201', ...base };
    expect(s.count(DURATION, postLabels)).toBe(1);
    expect(s.sum('http_server_request_body_size_bytes', postLabels)).toBe(JSON.stringify(body).length);
    expect(s.sum('http_server_response_body_size_bytes', postLabels)).toBe(post.body.length);
    // injected requests complete normally: none is taken for a client abort
    expect(s.samples(DURATION, { error_type: 'aborted' })).toHaveLength(0);
    // the fake socket is not a connection
    expect(s.samples('network_server_active_connections')).toHaveLength(0);
    expect(s.samples('network_server_io_bytes_total')).toHaveLength(0);
    expect(s.value('http_server_active_requests', { http_request_method: 'GET', url_scheme: 'http' })).toBe(0);
    await app.close();
  });
});
