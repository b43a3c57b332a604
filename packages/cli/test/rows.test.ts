import { describe, expect, it } from 'vitest';
import { parseExposition } from '../src/exposition.js';
import { snapshot } from '../src/families.js';
import { renderFrame, type Frame } from '../src/render.js';
import { routeRows, rowFilter, sortRows, targetSummary, type RouteRow } from '../src/rows.js';

/** A histogram series as exposition lines (cumulative buckets). */
function histogram(name: string, labels: string, buckets: Array<[string, number]>): string {
  return buckets.map(([le, n]) => `${name}_bucket{${labels},le="${le}"} ${n}`).join('\n') + '\n';
}

describe('rows from two scrapes', () => {
  it('reads the semantic-convention family: errors by error_type or 5xx, bytes, in-flight, network', () => {
    const D = 'http_server_request_duration_seconds';
    const scrape = (ok: number, failed: number, bytes: number, net: number) =>
      snapshot(
        parseExposition(
          histogram(D, 'http_request_method="GET",http_route="/a",http_response_status_code="200"', [
            ['0.1', ok],
            ['+Inf', ok],
          ]) +
            histogram(
              D,
              'http_request_method="GET",http_route="/a",http_response_status_code="500",error_type="TypeError"',
              [
                ['0.1', 0],
                ['+Inf', failed],
              ],
            ) +
            // an aborted request: error_type without a 5xx
            histogram(D, 'http_request_method="GET",http_route="/a",error_type="aborted"', [
              ['0.1', 0],
              ['+Inf', 0],
            ]) +
            `http_server_response_body_size_bytes_sum{http_request_method="GET",http_route="/a",http_response_status_code="200"} ${bytes}\n` +
            'http_server_active_requests{http_request_method="GET",url_scheme="http"} 3\n' +
            `network_server_io_bytes_total{network_io_direction="receive"} ${net}\n` +
            `network_server_io_bytes_total{network_io_direction="transmit"} ${net}\n`,
        ),
        ok * 100,
      );
    const prev = scrape(10, 0, 1000, 500);
    const cur = scrape(30, 5, 5000, 1500); // 2 s later (time = ok * 100 ms)
    const rows = routeRows('t', prev, cur);
    expect(rows).toHaveLength(1);
    const [a] = rows;
    expect(a).toMatchObject({
      method: 'GET',
      route: '/a',
      requests: 25,
      rate: 12.5,
      errorRatio: 0.2,
      bytesRate: 2000,
    });
    // 20 of 25 below 0.1 s, 5 in +Inf: p50 interpolates in the first bucket, p99 is its bound
    expect(a.p50).toBeCloseTo(0.0625, 12);
    expect(a.p99).toBe(0.1);
    expect(targetSummary('t', rows, prev, cur)).toEqual({
      target: 't',
      rate: 12.5,
      errorRatio: 0.2,
      inFlight: 3,
      networkRate: 1000,
    });
  });

  it('reads the classic family (express-prom-bundle `path`, status_code), with a reset of one series', () => {
    const C = 'http_request_duration_seconds';
    const prev = snapshot(
      parseExposition(
        histogram(C, 'method="GET",path="/users/:id",status_code="200"', [
          ['0.05', 90],
          ['0.5', 100],
          ['+Inf', 100],
        ]) +
          histogram(C, 'method="GET",path="/users/:id",status_code="502"', [
            ['0.05', 0],
            ['0.5', 0],
            ['+Inf', 40],
          ]),
      ),
      0,
    );
    const cur = snapshot(
      parseExposition(
        histogram(C, 'method="GET",path="/users/:id",status_code="200"', [
          ['0.05', 100],
          ['0.5', 110],
          ['+Inf', 110],
        ]) +
          // this series restarted from 0 (a new process behind the same target): 10 new
          histogram(C, 'method="GET",path="/users/:id",status_code="502"', [
            ['0.05', 0],
            ['0.5', 0],
            ['+Inf', 10],
          ]) +
          // a series born between the scrapes
          histogram(C, 'method="POST",route="/users",status_code="201"', [
            ['0.05', 4],
            ['0.5', 4],
            ['+Inf', 4],
          ]),
      ),
      10_000,
    );
    expect(cur.family?.name).toBe('classic');
    const rows = sortRows(routeRows('t', prev, cur), 'rate');
    expect(rows.map((r) => [r.method, r.route, r.requests, r.rate, r.errorRatio])).toEqual([
      ['GET', '/users/:id', 20, 2, 0.5],
      ['POST', '/users', 4, 0.4, 0],
    ]);
    expect(rows[0].bytesRate).toBeUndefined();
    expect(rows[0].p95).toBe(0.5); // 10 of 20 in +Inf: the rank is there
  });

  it('finds nothing to show in an exposition without request histograms', () => {
    const snap = snapshot(parseExposition('process_cpu_seconds_total 3\n'), 0);
    expect(snap.family).toBeUndefined();
    expect(routeRows('t', snap, { ...snap, time: 1000 })).toEqual([]);
  });
});

const row = (route: string, rate: number, errorRatio: number, p95 = 0.01, target = 't1'): RouteRow => ({
  target,
  method: 'GET',
  route,
  requests: rate,
  rate,
  errorRatio,
  p50: p95 / 2,
  p95,
  p99: p95,
  bytesRate: 100,
});

describe('sort, filter and the frame', () => {
  const rows = [row('/a', 5, 0), row('/b', 1, 0.5, 2), row('/c', 10, NaN), row('/api/x', 2, 0)];
  it('sorts highest first (unknown last), routes A to Z, reversed on request', () => {
    expect(sortRows(rows, 'rate').map((r) => r.route)).toEqual(['/c', '/a', '/api/x', '/b']);
    expect(sortRows(rows, 'errors').map((r) => r.route)).toEqual(['/b', '/a', '/api/x', '/c']);
    expect(sortRows(rows, 'route').map((r) => r.route)).toEqual(['/a', '/api/x', '/b', '/c']);
    expect(sortRows(rows, 'rate', true).map((r) => r.route)).toEqual(['/b', '/api/x', '/a', '/c']);
  });
  it('filters by substring or /regex/ on method and route or the target', () => {
    expect(rows.filter(rowFilter('API')).map((r) => r.route)).toEqual(['/api/x']);
    expect(rows.filter(rowFilter('/^GET \\/[ab]$/')).map((r) => r.route)).toEqual(['/a', '/b']);
    expect(rows.filter(rowFilter('t1'))).toHaveLength(4);
    expect(rows.filter(rowFilter('/(/'))).toHaveLength(0); // not (yet) a valid expression: a substring
  });
  const frame = (width: number, extra: Partial<Frame> = {}): string =>
    renderFrame({
      targets: [
        {
          name: 't1',
          family: 'semconv',
          summary: { target: 't1', rate: 18, errorRatio: 0.1, inFlight: 2, networkRate: 2048 },
        },
        { name: 'down:9', error: 'ECONNREFUSED' },
      ],
      rows: sortRows(rows, 'rate'),
      sort: 'rate',
      reverse: false,
      filter: '',
      intervalSeconds: 2,
      width,
      color: false,
      live: true,
      p95Breach: 0.5,
      errorBreach: 0.05,
      ...extra,
    });
  it('shows targets up and down and every column when wide', () => {
    const text = frame(120);
    expect(text).toContain('UP   t1  18.0 req/s  err 10.0%  in-flight 2  net 2.0kB/s  semconv');
    expect(text).toContain('DOWN down:9  ECONNREFUSED');
    expect(text).toMatch(/TARGET +METHOD +ROUTE +REQ\/S↓ +ERR% +P50 +P95 +P99 +BYTES\/S/);
    expect(text).toMatch(/t1 +GET +\/b +1\.00 +50\.0% +1\.00s +2\.00s +2\.00s +100B/);
  });
  it('drops the least useful columns on a narrow terminal, never wider than it', () => {
    const text = frame(48);
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(48);
    expect(text).toMatch(/TARGET +ROUTE +REQ\/S↓ +ERR%/);
    expect(text).not.toContain('P50');
    expect(text).toMatch(/t1 +\/c +10\.0 +-/);
  });
  it('keeps to the terminal height and says how many routes are not shown', () => {
    const text = frame(120, { height: 9 });
    expect(text.split('\n').length).toBeLessThanOrEqual(9);
    expect(text).toMatch(/… \d more routes? \(filter with \/\)/);
  });
  it('colours breaches only when asked', () => {
    expect(frame(120, { color: true })).toContain('\u001b[31m\u001b[1m50.0%');
    expect(frame(120)).not.toContain('\u001b[');
  });
});
