import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { getMeterline, serialize } from '@meterline/core';
import { listening } from '@meterline/testing';
import { groupingPath, pushMetrics, PushError, Pushgateway } from '../src/index.js';
import { freePort, Parsed, pushgatewayForFile } from './helpers/pushgateway.js';

const gateway = pushgatewayForFile('push-test');

const meter = () => getMeterline().meterProvider.getMeter('push-test');

/** Run `body` against a plain HTTP server whose handler is `respond` (it counts requests), closed after. */
async function withFakeServer(
  respond: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  body: (server: { url: string; requests: () => number }) => Promise<void>,
): Promise<void> {
  let n = 0;
  const server = await listening(
    createServer((req, res) => {
      n++;
      req.resume();
      respond(req, res, n);
    }).listen(0, '127.0.0.1'),
  );
  try {
    await body({ url: server.url, requests: () => n });
  } finally {
    await server.close();
  }
}

describe('groupingPath', () => {
  it('encodes job and labels as the Pushgateway reads them', () => {
    expect(groupingPath({ job: 'nightly' })).toBe('/metrics/job/nightly');
    expect(groupingPath({ job: 'nightly', grouping: { instance: 'db-1', shard: '3' } })).toBe(
      '/metrics/job/nightly/instance/db-1/shard/3',
    );
    expect(groupingPath({ job: 'a/b' })).toBe('/metrics/job@base64/YS9i');
    expect(groupingPath({ job: 'j', grouping: { empty: '' } })).toBe('/metrics/job/j/empty@base64/=');
    expect(groupingPath({ job: 'j', grouping: { dots: '..' } })).toBe('/metrics/job/j/dots@base64/Li4');
    expect(groupingPath({ job: 'j', grouping: { city: 'zürich 50%' } })).toBe(
      '/metrics/job/j/city/z%C3%BCrich%2050%25',
    );
    // base64url, not base64: `?` and `>` would give `/` and `+`
    expect(groupingPath({ job: 'j', grouping: { p: '/??>' } })).toBe(
      `/metrics/job/j/p@base64/${Buffer.from('/??>').toString('base64url')}`,
    );
    expect(Buffer.from('/??>').toString('base64')).toMatch(/[/+]/);
  });
});

describe('push to a real Pushgateway', () => {
  it('PUT pushes the process metrics and the gateway serves them with the grouping labels', async () => {
    const rows = meter().createCounter('rows.written', { unit: '{row}', description: 'Rows written.' });
    rows.add(42, { table: 'orders' });
    const client = new Pushgateway({ url: gateway.url });
    const result = await client.push({ job: 'export', grouping: { instance: 'db-1' } });
    expect(result).toEqual({
      url: `${gateway.url}/metrics/job/export/instance/db-1`,
      method: 'PUT',
      status: 200,
      attempts: 1,
    });
    const scraped = await gateway.scrape();
    expect(scraped.value('rows_written_total', { job: 'export', instance: 'db-1', table: 'orders' })).toBe(
      42,
    );
    expect(scraped.types.get('rows_written_total')).toBe('COUNTER');
    // target_info is accepted and carries the resource
    expect(scraped.value('target_info', { job: 'export', instance: 'db-1' })).toBe(1);
    expect(scraped.find('target_info', { job: 'export' })[0].labels.service_name).toBe('push-test');
    expect(scraped.find('push_time_seconds', { job: 'export', instance: 'db-1' })).toHaveLength(1);
    expect(scraped.value('push_failure_time_seconds', { job: 'export', instance: 'db-1' })).toBe(0);
  });

  it("meterline's default output with HTTP metrics (histograms, counters, gauges) is accepted as is", async () => {
    const runtime = getMeterline();
    const server = await listening(
      createServer((req, res) => {
        runtime.recorder.start(req, res);
        res.end('ok');
      }).listen(0, '127.0.0.1'),
    );
    for (let i = 0; i < 3; i++) await (await fetch(`${server.url}/x`)).text();
    await server.close();
    const text = await runtime.scrape();
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    expect(text).toContain('# TYPE network_server_io_bytes_total counter');
    const result = await new Pushgateway(gateway.url).push({ job: 'http-app' });
    expect(result.status).toBe(200);
    const scraped = await gateway.scrape();
    expect(scraped.types.get('http_server_request_duration_seconds')).toBe('HISTOGRAM');
    expect(
      scraped.value('http_server_request_duration_seconds_count', {
        job: 'http-app',
        http_request_method: 'GET',
      }),
    ).toBe(3);
    expect(
      scraped.value('http_server_request_duration_seconds_bucket', { job: 'http-app', le: '+Inf' }),
    ).toBe(3);
    const pushed = new Parsed(text);
    const received = pushed.value('network_server_io_bytes_total', { network_io_direction: 'receive' });
    expect(received).toBeGreaterThan(0);
    expect(
      scraped.value('network_server_io_bytes_total', { job: 'http-app', network_io_direction: 'receive' }),
    ).toBe(received);
    // what the gateway serves for the group is exactly what we pushed, sample for sample
    const ours = text
      .split('\n')
      .filter((l) => l.startsWith('http_server_request_duration_seconds_bucket')).length;
    expect(scraped.find('http_server_request_duration_seconds_bucket', { job: 'http-app' })).toHaveLength(
      ours,
    );
  });

  it('POST replaces only the families pushed; PUT replaces the whole group; DELETE removes it', async () => {
    const m = meter();
    const a = m.createGauge('add.a');
    const b = m.createGauge('add.b');
    a.record(1);
    b.record(10);
    const client = new Pushgateway({ url: gateway.url });
    await client.push({ job: 'add', metrics: ['add_a', 'add_b'] });
    let scraped = await gateway.scrape();
    expect(scraped.value('add_a', { job: 'add' })).toBe(1);
    expect(scraped.value('add_b', { job: 'add' })).toBe(10);

    a.record(2);
    b.record(20);
    const added = await client.pushAdd({ job: 'add', metrics: (name) => name === 'add_b' });
    expect(added.method).toBe('POST');
    scraped = await gateway.scrape();
    expect(scraped.value('add_a', { job: 'add' })).toBe(1); // untouched by POST
    expect(scraped.value('add_b', { job: 'add' })).toBe(20);

    await client.push({ job: 'add', metrics: ['add_b'], targetInfo: false });
    scraped = await gateway.scrape();
    expect(scraped.find('add_a', { job: 'add' })).toEqual([]); // PUT replaced the group
    expect(scraped.value('add_b', { job: 'add' })).toBe(20);
    expect(scraped.find('target_info', { job: 'add' })).toEqual([]);

    const deleted = await client.delete({ job: 'add' });
    expect(deleted.method).toBe('DELETE');
    expect(deleted.status).toBe(202);
    scraped = await gateway.scrape();
    expect(scraped.find('add_b', { job: 'add' })).toEqual([]);
    expect(scraped.find('push_time_seconds', { job: 'add' })).toEqual([]);
  });

  it('groups with awkward job names and label values (/, empty, unicode, dots, %) round-trip exactly', async () => {
    const g = meter().createGauge('awkward.value');
    g.record(7);
    const grouping = { path: 'reports/2026/11', empty: '', city: 'Zürich ☃', dots: '..', pct: '50% off' };
    const client = new Pushgateway(gateway.url);
    await client.push({ job: 'exports/nightly', grouping, metrics: ['awkward_value'] });
    const scraped = await gateway.scrape();
    expect(scraped.find('awkward_value')).toEqual([
      { labels: { job: 'exports/nightly', ...grouping, instance: '' }, value: 7 },
    ]);
    // and the same group can be deleted again
    await client.delete({ job: 'exports/nightly', grouping });
    expect((await gateway.scrape()).find('awkward_value')).toEqual([]);
  });

  it('pushMetrics pushes in one awaited call (push-on-exit)', async () => {
    meter().createGauge('one.call').record(3);
    const result = await pushMetrics({ url: gateway.url, job: 'short', metrics: ['one_call'] });
    expect(result.status).toBe(200);
    expect((await gateway.scrape()).value('one_call', { job: 'short' })).toBe(3);
  });

  it('a 4xx answer is not retried and gives a PushError with the status and the gateway message', async () => {
    const client = new Pushgateway({ url: gateway.url, retries: 3, backoffMs: 1 });
    await client.pushText('PUT', { job: 'typed-a' }, '# TYPE clash gauge\nclash 1\n');
    const error = await client
      .pushText('PUT', { job: 'typed-b' }, '# TYPE clash counter\nclash 1\n')
      .catch((e) => e);
    expect(error).toBeInstanceOf(PushError);
    expect(error).toMatchObject({
      status: 400,
      attempts: 1,
      method: 'PUT',
      url: `${gateway.url}/metrics/job/typed-b`,
      body: expect.stringMatching(/inconsistent/),
      message: expect.stringMatching(/answered 400 after 1 attempt: .*inconsistent/),
    });
  });
});

describe('retries and failures', () => {
  it('retries 5xx with backoff and succeeds when the gateway recovers', async () => {
    await withFakeServer(
      (_req, res, n) => {
        res.statusCode = n <= 2 ? 503 : 200;
        res.end(n <= 2 ? 'starting' : '');
      },
      async (server) => {
        const result = await new Pushgateway({ url: server.url, retries: 3, backoffMs: 1 }).pushText(
          'PUT',
          { job: 'retry' },
          'x 1\n',
        );
        expect(result.attempts).toBe(3);
        expect(result.status).toBe(200);
        expect(server.requests()).toBe(3);
      },
    );
  });

  it('gives up after retries on persistent 5xx with the last status', async () => {
    await withFakeServer(
      (_req, res) => {
        res.statusCode = 500;
        res.end('disk full');
      },
      async (server) => {
        const error = await new Pushgateway({ url: server.url, retries: 2, backoffMs: 1 })
          .pushText('POST', { job: 'r' }, 'x 1\n')
          .catch((e) => e);
        expect(error).toBeInstanceOf(PushError);
        expect(error).toMatchObject({ status: 500, attempts: 3, body: 'disk full' });
        expect(server.requests()).toBe(3);
      },
    );
  });

  it('an unreachable gateway gives a PushError without status after every attempt', async () => {
    const port = await freePort(); // bound and released: nothing listens there
    const client = new Pushgateway({ url: `http://127.0.0.1:${port}`, retries: 2, backoffMs: 1 });
    const error = await client.push({ job: 'down' }).catch((e) => e);
    expect(error).toBeInstanceOf(PushError);
    expect(error.status).toBeUndefined();
    expect(error.attempts).toBe(3);
    expect(error.url).toBe(`http://127.0.0.1:${port}/metrics/job/down`);
    expect(error.message).toMatch(/unreachable after 3 attempts: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('a gateway that does not answer times out per attempt', async () => {
    await withFakeServer(
      () => {
        // never answers
      },
      async (server) => {
        const error = await new Pushgateway({ url: server.url, timeoutMs: 100, retries: 1, backoffMs: 1 })
          .pushText('PUT', { job: 'slow' }, 'x 1\n')
          .catch((e) => e);
        expect(error).toBeInstanceOf(PushError);
        expect(error.status).toBeUndefined();
        expect(error.attempts).toBe(2);
        expect(error.message).toMatch(/no answer within 100 ms/);
        expect(server.requests()).toBe(2);
      },
    );
  });

  it('sends the configured headers and keeps a path prefix of the URL', async () => {
    let seen: { url?: string; auth?: string; type?: string } = {};
    await withFakeServer(
      (req, res) => {
        seen = { url: req.url, auth: req.headers.authorization, type: req.headers['content-type'] };
        res.end();
      },
      async (server) => {
        await new Pushgateway({
          url: `${server.url}/pgw/`,
          headers: { Authorization: 'Bearer t0k' },
        }).pushText('PUT', { job: 'h' }, 'x 1\n');
        expect(seen).toEqual({
          url: '/pgw/metrics/job/h',
          auth: 'Bearer t0k',
          type: 'text/plain; version=0.0.4; charset=utf-8',
        });
      },
    );
  });
});

describe('validation', () => {
  it('bad options throw at creation, naming the option', () => {
    expect(() => new Pushgateway('ftp://x')).toThrow(/option "url" is "ftp:\/\/x"/);
    expect(() => new Pushgateway('not a url')).toThrow(/option "url"/);
    expect(() => new Pushgateway({ url: 'http://x', retries: -1 })).toThrow(/option "retries"/);
    expect(() => new Pushgateway({ url: 'http://x', timeoutMs: 0 })).toThrow(/option "timeoutMs"/);
    expect(() => new Pushgateway({ url: 'http://x', retry: 1 } as never)).toThrow(/unknown option "retry"/);
  });

  it('bad targets are rejected before anything is sent', async () => {
    const client = new Pushgateway('http://127.0.0.1:1');
    await expect(client.push({ job: '' })).rejects.toThrow(/option "job" is ""/);
    await expect(client.push({ job: 'j', grouping: { 'bad-name': 'x' } })).rejects.toThrow(
      /option "grouping.bad-name"/,
    );
    await expect(client.push({ job: 'j', grouping: { job: 'x' } })).rejects.toThrow(/option "grouping.job"/);
    await expect(client.push({ job: 'j', grouping: { n: 1 as never } })).rejects.toThrow(
      /option "grouping.n"/,
    );
    await expect(client.push({ job: 'j', metrics: 'x' as never })).rejects.toThrow(/option "metrics"/);
  });

  it('the pushed body is the same serialiser as /metrics', async () => {
    const runtime = getMeterline();
    let body = '';
    await withFakeServer(
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          body = Buffer.concat(chunks).toString();
          res.end();
        });
      },
      async (server) => {
        await new Pushgateway(server.url).push({ job: 'same' });
        // meterline's self-metrics count this very push and collection: compare the rest
        const stable = (text: string) =>
          text
            .split('\n')
            .filter((line) => !/^(# (HELP|TYPE) )?meterline_(collection|scrape|push)_/.test(line))
            .join('\n');
        expect(body).toContain('meterline_collection_duration_seconds_count');
        expect(stable(body)).toBe(stable(serialize(await runtime.collect())));
      },
    );
  });
});
