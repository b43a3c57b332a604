import type { SpanContext } from '@opentelemetry/api';

/** One exemplar as served: the trace and span of one request, its observed value, when it was recorded. */
export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** ms since the epoch */
  timestamp: number;
}

/**
 * The latest exemplar of each bucket of one histogram (at most one per bucket; a newer request replaces it). Created
 * on a histogram's first traced request: nothing exists for histograms that never see one.
 */
export class BucketExemplars {
  private readonly spans: (SpanContext | undefined)[];
  private readonly values: Float64Array;
  private readonly times: Float64Array;

  constructor(buckets: number) {
    this.spans = new Array<SpanContext | undefined>(buckets).fill(undefined);
    this.values = new Float64Array(buckets);
    this.times = new Float64Array(buckets);
  }

  offer(bucket: number, value: number, span: SpanContext): void {
    this.spans[bucket] = span;
    this.values[bucket] = value;
    this.times[bucket] = Date.now();
  }

  /** The exemplars by bucket (undefined where a bucket has none), copied for one scrape. */
  snapshot(): (Exemplar | undefined)[] {
    const out: (Exemplar | undefined)[] = [];
    for (let i = 0; i < this.spans.length; i++) {
      const span = this.spans[i];
      out.push(
        span === undefined
          ? undefined
          : { traceId: span.traceId, spanId: span.spanId, value: this.values[i], timestamp: this.times[i] },
      );
    }
    return out;
  }
}
