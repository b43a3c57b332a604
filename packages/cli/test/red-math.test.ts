import { describe, expect, it } from 'vitest';
import {
  bucketsIncrease,
  counterIncrease,
  histogramQuantile,
  sumBuckets,
  type Bucket,
} from '../src/red-math.js';

const b = (pairs: Array<[number, number]>): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

describe('histogramQuantile (Prometheus histogram_quantile)', () => {
  // the example of the Prometheus documentation's shape: 0.1 / 0.2 / 0.4 / +Inf cumulative
  const h = b([
    [0.1, 10],
    [0.2, 30],
    [0.4, 40],
    [Infinity, 40],
  ]);
  it('interpolates linearly inside the bucket that holds the rank', () => {
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.15, 12); // rank 20: 10 into the (0.1, 0.2] bucket of 20
    expect(histogramQuantile(0.9, h)).toBeCloseTo(0.32, 12); // rank 36: 6 of 10 into (0.2, 0.4]
    expect(histogramQuantile(0.1, h)).toBeCloseTo(0.04, 12); // first bucket starts at 0
    expect(histogramQuantile(0, h)).toBe(0);
    expect(histogramQuantile(1, h)).toBeCloseTo(0.4, 12);
  });
  it('answers the highest finite bound when the rank is in +Inf', () => {
    expect(
      histogramQuantile(
        0.99,
        b([
          [0.1, 1],
          [0.2, 1],
          [Infinity, 100],
        ]),
      ),
    ).toBe(0.2);
  });
  it('returns the bound of a first bucket at or below 0', () => {
    expect(
      histogramQuantile(
        0.5,
        b([
          [-1, 5],
          [0, 5],
          [Infinity, 5],
        ]),
      ),
    ).toBe(-1);
  });
  it('is NaN without observations or without +Inf, ±Inf outside [0, 1]', () => {
    expect(
      histogramQuantile(
        0.5,
        b([
          [0.1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNaN();
    expect(
      histogramQuantile(
        0.5,
        b([
          [0.1, 3],
          [0.2, 4],
        ]),
      ),
    ).toBeNaN();
    expect(histogramQuantile(0.5, b([[Infinity, 4]]))).toBeNaN();
    expect(histogramQuantile(-0.1, h)).toBe(-Infinity);
    expect(histogramQuantile(1.1, h)).toBe(Infinity);
    expect(histogramQuantile(NaN, h)).toBeNaN();
  });
  it('sorts buckets by le and makes non-monotonic counts monotonic (a scrape racing an update)', () => {
    const shuffled = b([
      [Infinity, 40],
      [0.2, 30],
      [0.1, 10],
      [0.4, 40],
    ]);
    expect(histogramQuantile(0.5, shuffled)).toBeCloseTo(0.15, 12);
    const racing = b([
      [0.1, 10],
      [0.2, 9],
      [0.4, 20],
      [Infinity, 20],
    ]);
    expect(histogramQuantile(0.5, racing)).toBeCloseTo(0.1, 12);
  });
});

describe('increases between two scrapes', () => {
  it('takes a counter that went down as reset: all of its value is new', () => {
    expect(counterIncrease(10, 15)).toBe(5);
    expect(counterIncrease(10, 3)).toBe(3);
    expect(counterIncrease(undefined, 7)).toBe(7);
  });
  it('subtracts histogram buckets by le, or takes all of the new one after a reset', () => {
    const prev = b([
      [0.1, 5],
      [Infinity, 8],
    ]);
    expect(
      bucketsIncrease(
        prev,
        b([
          [0.1, 7],
          [Infinity, 12],
        ]),
      ),
    ).toEqual(
      b([
        [0.1, 2],
        [Infinity, 4],
      ]),
    );
    // the process restarted: +Inf went from 8 to 3
    expect(
      bucketsIncrease(
        prev,
        b([
          [0.1, 1],
          [Infinity, 3],
        ]),
      ),
    ).toEqual(
      b([
        [0.1, 1],
        [Infinity, 3],
      ]),
    );
    // one bucket went down while the total grew: still a reset
    expect(
      bucketsIncrease(
        prev,
        b([
          [0.1, 4],
          [Infinity, 9],
        ]),
      ),
    ).toEqual(
      b([
        [0.1, 4],
        [Infinity, 9],
      ]),
    );
    expect(
      bucketsIncrease(
        undefined,
        b([
          [0.1, 1],
          [Infinity, 2],
        ]),
      ),
    ).toEqual(
      b([
        [0.1, 1],
        [Infinity, 2],
      ]),
    );
  });
  it('sums bucket lists by le', () => {
    expect(
      sumBuckets([
        b([
          [0.1, 1],
          [Infinity, 2],
        ]),
        b([
          [Infinity, 5],
          [0.1, 3],
        ]),
      ]),
    ).toEqual(
      b([
        [0.1, 4],
        [Infinity, 7],
      ]),
    );
  });
});
