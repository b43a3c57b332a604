// Summing the totals of several processes: unit tests of the wire format and the sums.
import { describe, expect, it } from 'vitest';
import { fromWire, sumTotals, toWire, type WireMetric, type WireTotals } from '../src/aggregate.js';
import { serialize } from '../src/serializer.js';
import { resourceFromAttributes } from '@opentelemetry/resources';

const metric = (n: string, k: WireMetric['k'], p: WireMetric['p'], t = 1000): WireMetric => ({
  n,
  d: n,
  u: '',
  v: 1,
  k,
  t,
  p,
});
const totals = (...m: WireMetric[]): WireTotals => ({ s: [{ n: 'scope', v: '1', m }] });

describe('sumTotals', () => {
  it('adds counters and histograms point by point, whatever the attribute order', () => {
    const a = totals(
      metric('req', 'c', [[{ a: '1', b: '2' }, 3]]),
      metric('dur', 'h', [[{ r: '/x' }, [[0.1, 1], [1, 2, 0], 0.5, 3, 0.05, 0.9]]]),
    );
    const b = totals(
      metric(
        'req',
        'c',
        [
          [{ b: '2', a: '1' }, 4],
          [{ a: '9' }, 1],
        ],
        500,
      ),
      metric('dur', 'h', [[{ r: '/x' }, [[0.1, 1], [0, 1, 1], 2.5, 2, 0.2, 2]]]),
    );
    const sum = sumTotals(
      [
        { name: '1', totals: a },
        { name: '2', totals: b },
      ],
      { gauges: 'sum' },
    );
    const [req, dur] = sum.s[0].m;
    expect(req.p).toEqual([
      [{ a: '1', b: '2' }, 7],
      [{ a: '9' }, 1],
    ]);
    expect(req.t).toBe(500); // the earliest start
    expect(dur.p[0][1]).toEqual([[0.1, 1], [1, 3, 1], 3, 5, 0.05, 2]);
    // the inputs are left as they were
    expect(a.s[0].m[1].p[0][1]).toEqual([[0.1, 1], [1, 2, 0], 0.5, 3, 0.05, 0.9]);
  });

  it('labels gauges per source when asked, and sums them otherwise', () => {
    const g = (v: number) =>
      totals(metric('inflight', 'u', [[{ m: 'GET' }, v]]), metric('req', 'c', [[{}, v]]));
    const labelled = sumTotals(
      [
        { name: '1', totals: g(2) },
        { name: '2', totals: g(5) },
      ],
      { gauges: 'label' },
    );
    expect(labelled.s[0].m[0].p).toEqual([
      [{ m: 'GET', worker: '1' }, 2],
      [{ m: 'GET', worker: '2' }, 5],
    ]);
    expect(labelled.s[0].m[1].p).toEqual([[{}, 7]]);
    const summed = sumTotals(
      [
        { name: '1', totals: g(2) },
        { name: '2', totals: g(5) },
      ],
      { gauges: 'sum' },
    );
    expect(summed.s[0].m[0].p).toEqual([[{ m: 'GET' }, 7]]);
  });

  it('keeps only counters and histograms of a retired source', () => {
    const t = totals(
      metric('inflight', 'u', [[{}, 3]]),
      metric('g', 'g', [[{}, 3]]),
      metric('req', 'c', [[{}, 3]]),
    );
    const sum = sumTotals([{ name: 'r', totals: t, monotonicOnly: true }], { gauges: 'sum' });
    expect(sum.s[0].m.map((m) => m.n)).toEqual(['req']);
  });

  it('leaves out a histogram whose boundaries differ from the first source', () => {
    const a = totals(metric('dur', 'h', [[{}, [[1], [1, 0], 0.5, 1, 0.5, 0.5]]]));
    const b = totals(metric('dur', 'h', [[{}, [[2], [0, 1], 3, 1, 3, 3]]]));
    const sum = sumTotals(
      [
        { name: '1', totals: a },
        { name: '2', totals: b },
      ],
      { gauges: 'sum' },
    );
    expect(sum.s[0].m[0].p[0][1]).toEqual([[1], [1, 0], 0.5, 1, 0.5, 0.5]);
  });
});

describe('wire format', () => {
  it('survives JSON (IPC) and serialises as the original would', () => {
    const t = totals(
      metric('http.server.request.duration', 'h', [
        [{ 'http.route': '/x' }, [[0.1], [2, 1], 0.7, 3, 0.1, 0.5]],
      ]),
      metric('shop.orders', 'c', [[{ kind: 'web' }, 4]]),
      metric('queue.depth', 'g', [[{}, 7]]),
    );
    const rm = fromWire(JSON.parse(JSON.stringify(t)) as WireTotals, resourceFromAttributes({}));
    expect(toWire(rm)).toEqual(t);
    const text = serialize(rm, { targetInfo: false });
    expect(text).toContain('shop_orders_total{kind="web"} 4');
    expect(text).toContain('queue_depth 7');
    expect(text).toContain('http_server_request_duration_bucket{http_route="/x",le="+Inf"} 3');
  });
});
