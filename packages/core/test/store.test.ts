import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AttributeGuard } from '../src/attributes.js';
import { AttributeValueCap, ErrorTypeCap, OverflowCounts, RouteCap } from '../src/cardinality.js';
import {
  DEFAULT_CONNECTION_DURATION_BUCKETS,
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_SIZE_BUCKETS,
  METHOD_INDEX,
} from '../src/http-metrics.js';
import { HttpStore } from '../src/store.js';

const store = (maxRoutes = 1000, maxErrorTypes = 100) =>
  new HttpStore({
    durationBuckets: DEFAULT_DURATION_BUCKETS,
    requestSizeBuckets: DEFAULT_SIZE_BUCKETS,
    responseSizeBuckets: DEFAULT_SIZE_BUCKETS,
    connectionDurationBuckets: DEFAULT_CONNECTION_DURATION_BUCKETS,
    maxRoutes,
    maxErrorTypes,
  });
const GET = METHOD_INDEX.GET;
const fakeRes = {} as ServerResponse & { req: IncomingMessage };

describe('the series store', () => {
  it('interns one series per attribute set, with frozen attributes, and reuses it', () => {
    const s = store();
    const route = s.route('/users/:id');
    const a = s.series(route, GET, 0, 1, 200, undefined);
    expect(s.series(route, GET, 0, 1, 200, undefined)).toBe(a);
    expect(s.series(route, GET, 0, 1, 404, undefined)).not.toBe(a);
    expect(s.series(route, GET, 0, 1, 500, 'TypeError')).not.toBe(s.series(route, GET, 0, 1, 500, '500'));
    expect(s.seriesCount).toBe(4);
    expect(Object.isFrozen(a.attributes)).toBe(true);
    expect(a.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
    });
    // no matched route, no status (aborted before the head), unknown protocol: those attributes are absent
    const bare = s.series(s.noRoute, GET, 1, 3, 0, 'aborted');
    expect(bare.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'https',
      'error.type': 'aborted',
    });
  });

  it('collects cumulative histograms whose bucket counts add up to the recorded values', () => {
    const s = store();
    const series = s.series(s.route('/a'), GET, 0, 1, 200, undefined);
    for (const v of [0.001, 0.02, 0.02, 3]) series.duration.record(v);
    const scope = s.collectScope();
    const duration = scope.metrics.find((m) => m.descriptor.name === 'http.server.request.duration');
    const point = duration?.dataPoints[0] as unknown as {
      value: { count: number; sum: number; buckets: { counts: number[] } };
    };
    expect(point.value.count).toBe(4);
    expect(point.value.sum).toBeCloseTo(3.041, 6);
    expect(point.value.buckets.counts.reduce((x, y) => x + y, 0)).toBe(4);
    expect(point.value.buckets.counts[0]).toBe(1); // <= 0.005
    expect(point.value.buckets.counts[2]).toBe(2); // <= 0.025
  });

  it('folds routes past maxRoutes into __overflow__ and counts every folded request', () => {
    const s = store(2);
    s.route('/a');
    s.route('/b');
    const over = s.route('/c');
    expect(over).toBe(s.overflowRoute);
    expect(s.route('/d')).toBe(s.overflowRoute);
    expect(s.route('/a')).not.toBe(s.overflowRoute);
    s.series(over, GET, 0, 1, 200, undefined);
    s.series(over, GET, 0, 1, 200, undefined);
    expect(s.overflows.route).toBe(2);
    expect(s.series(over, GET, 0, 1, 200, undefined).attributes['http.route']).toBe('__overflow__');
  });

  it('caps distinct error types at maxErrorTypes, then records _OTHER', () => {
    const s = store(1000, 2);
    const r = s.route('/e');
    expect(s.series(r, GET, 0, 1, 500, 'A').attributes['error.type']).toBe('A');
    expect(s.series(r, GET, 0, 1, 500, 'B').attributes['error.type']).toBe('B');
    expect(s.series(r, GET, 0, 1, 500, 'C').attributes['error.type']).toBe('_OTHER');
    expect(s.series(r, GET, 0, 1, 500, 'A').attributes['error.type']).toBe('A');
    expect(s.overflows.errorType).toBe(1);
  });
});

describe('the cardinality caps', () => {
  it('RouteCap, ErrorTypeCap and AttributeValueCap admit up to their limit and fold the rest', () => {
    const counts = new OverflowCounts();
    const routes = new RouteCap(1);
    expect(routes.route('/x').template).toBe('/x');
    expect(routes.route('/y')).toBe(routes.overflowRoute);
    expect(routes.route(undefined)).toBe(routes.noRoute);
    const errors = new ErrorTypeCap(1, counts);
    expect(errors.cap('E1')).toBe('E1');
    expect(errors.cap('E2')).toBe('_OTHER');
    const values = new AttributeValueCap(2, counts);
    expect([
      values.cap('tier', 'a'),
      values.cap('tier', 'b'),
      values.cap('tier', 'c'),
      values.cap('tier', 'a'),
    ]).toEqual(['a', 'b', '__overflow__', 'a']);
    expect(values.cap('other', 'c')).toBe('c'); // per key
    expect(counts).toMatchObject({ errorType: 1, attributes: 1 });
  });
});

describe('the attribute guard', () => {
  it('keeps valid keys, drops reserved, invalid and unsupported ones, caps values, and caches the set', () => {
    const counts = new OverflowCounts();
    let next: unknown = { tier: 'gold', 'http.route': '/x', 'bad key': 1, nested: { a: 1 }, ok: true };
    const guard = new AttributeGuard(() => next as Record<string, string>, 1, counts);
    const first = guard.evaluate(fakeRes);
    expect(first?.attrs).toEqual({ ok: true, tier: 'gold' });
    expect(Object.isFrozen(first?.attrs)).toBe(true);
    next = { tier: 'gold', ok: true };
    expect(guard.evaluate(fakeRes)).toBe(first);
    next = { tier: 'silver', ok: true };
    expect(guard.evaluate(fakeRes)?.attrs).toEqual({ ok: true, tier: '__overflow__' });
    expect(counts.attributes).toBe(1);
  });

  it('survives a callback that throws or returns junk: the request is recorded without user attributes', () => {
    const counts = new OverflowCounts();
    expect(
      new AttributeGuard(
        () => {
          throw new Error('boom');
        },
        10,
        counts,
      ).evaluate(fakeRes),
    ).toBeUndefined();
    expect(new AttributeGuard(() => 'junk' as never, 10, counts).evaluate(fakeRes)).toBeUndefined();
    expect(new AttributeGuard(() => undefined, 10, counts).evaluate(fakeRes)).toBeUndefined();
  });
});
