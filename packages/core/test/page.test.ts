import { beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '@meterline/testing';
import { fileServer } from './helpers/file-server.js';
import { AdapterCore } from '../src/adapter.js';
import { setRoute, withMetrics } from '../src/index.js';
import type { PageData } from '../src/page-history.js';

const AUTH = 'Basic ' + Buffer.from('ops:secret').toString('base64');
const server = fileServer();
let url: string;

beforeAll(async () => {
  url = await server.start(
    withMetrics(
      (req, res) => {
        if (req.url === '/a') setRoute(req, '/a');
        res.end('ok');
      },
      { page: '/metrics/ui', auth: { basic: { username: 'ops', password: 'secret' } } },
    ),
  );
});

describe('the live page (page option)', () => {
  it('is protected by the same auth as /metrics, the page and its data alike', async () => {
    for (const path of ['/metrics', '/metrics/ui', '/metrics/ui/data', '/metrics/ui?x=1']) {
      const res = await fetch(url + path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="metrics"');
      expect(await res.text()).toBe('Unauthorized\n');
    }
  });

  it('serves one self-contained HTML page (no other origin) and JSON data, GET and HEAD only', async () => {
    const page = await fetch(url + '/metrics/ui', { headers: { authorization: AUTH } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<svg id="chart-rate"');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(Buffer.byteLength(html)).toBeLessThan(16 * 1024);
    const head = await fetch(url + '/metrics/ui', { method: 'HEAD', headers: { authorization: AUTH } });
    expect(head.status).toBe(200);
    const post = await fetch(url + '/metrics/ui/data', { method: 'POST', headers: { authorization: AUTH } });
    expect(post.status).toBe(405);
    const data = await fetch(url + '/metrics/ui/data', { headers: { authorization: AUTH } });
    expect(data.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await data.json()) as PageData;
    expect(body).toMatchObject({ intervalSeconds: 5, times: [], routes: [] });
  });

  it('is not measured, creates no series, and leaves other paths under it to the app', async () => {
    await (await fetch(url + '/a')).text();
    const other = await fetch(url + '/metrics/ui/other');
    expect(await other.text()).toBe('ok'); // the app's, measured as unmatched
    const s = (await scrape(url + '/metrics', { headers: { authorization: AUTH } })).scrape;
    const routes = s.samples('http_server_request_duration_seconds').map((m) => m.labels?.http_route);
    expect(routes).toContain('/a');
    expect(routes.filter((r) => r !== undefined && r.includes('ui'))).toEqual([]);
    expect(s.totalCount('http_server_request_duration_seconds')).toBe(2); // /a and /metrics/ui/other; no page, data or metrics request
  });

  it('fails fast on a bad page option, naming it', () => {
    const make = (options: object) => () => new AdapterCore({ where: 'test' }, options);
    expect(make({ page: 'ui' })).toThrow(/page/);
    expect(make({ page: '/metrics' })).toThrow(/page.*other than the metrics path/);
    expect(make({ page: 42 })).toThrow(/page/);
    expect(make({ path: false, page: '/ui', auth: {} })).toThrow(/auth/);
    expect(new AdapterCore({ where: 'test' }, {}).page).toBeUndefined();
    const both = new AdapterCore({ where: 'test' }, { page: '/ui' });
    expect(both.servedPaths).toEqual(['/metrics', '/ui', '/ui/data']);
    expect(both.isMetricsRequest('/ui?x')).toBe(true);
    expect(both.isMetricsRequest('/ui/data')).toBe(true);
    expect(both.isMetricsRequest('/uix')).toBe(false);
    expect(both.isMetricsRequest('/ui/other')).toBe(false);
  });
});
