import type { DataPoint } from '@opentelemetry/sdk-metrics';
import { performance } from 'node:perf_hooks';
import type { HistogramPoint } from './histogram.js';
import type { Family } from './serializer.js';

/** Data points written between two looks at the clock in `write` (a few hundred µs). */
const POINTS_PER_CHECK = 32;

/**
 * The walk every exposition writer makes over the families of one collection, resumably: `write(deadline)` writes
 * until `performance.now()` passes `deadline` (or to the end) and says whether it is done, so that the shared handler
 * can spread a large exposition over several event-loop turns instead of blocking the loop for all of it. A format
 * says how it writes a family's header, its data points and what closes a family and the whole exposition.
 */
export abstract class FamilyWalk {
  /** position: family, metric within it, data point within that (-1: the family's header is next) */
  private f = 0;
  private m = 0;
  private p = -1;

  constructor(protected readonly families: Family[]) {}

  /** The family's metadata, before its first data point. */
  protected abstract begin(family: Family): void;
  protected abstract scalar(family: Family, point: DataPoint<number>): void;
  protected abstract histogram(family: Family, point: DataPoint<HistogramPoint>): void;
  /** After the family's last data point. */
  protected end(_family: Family): void {}
  /** After the last family, once. */
  protected finish(): void {}

  /** Write until the clock passes `deadline` (ms, `performance.now()` time); true once everything is written. */
  write(deadline: number): boolean {
    const families = this.families;
    let budget = POINTS_PER_CHECK;
    while (this.f < families.length) {
      const family = families[this.f];
      if (this.p === -1) {
        this.begin(family);
        this.p = 0;
      }
      while (this.m < family.metrics.length) {
        const points = family.metrics[this.m].dataPoints;
        const histogram = family.kind === 'histogram';
        while (this.p < points.length) {
          if (histogram) this.histogram(family, points[this.p] as DataPoint<HistogramPoint>);
          else this.scalar(family, points[this.p] as DataPoint<number>);
          this.p++;
          if (--budget === 0) {
            if (performance.now() >= deadline) return false;
            budget = POINTS_PER_CHECK;
          }
        }
        this.m++;
        this.p = 0;
      }
      this.end(family);
      this.f++;
      this.m = 0;
      this.p = -1;
    }
    if (this.f === families.length) {
      this.finish();
      this.f++;
    }
    return true;
  }
}
