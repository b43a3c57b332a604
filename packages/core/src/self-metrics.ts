import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { FAULT_COMPONENTS, faultCounts } from './faults.js';
import { FixedHistogram } from './histogram.js';
import { defineMetrics, metricData } from './metric-definition.js';
import { hrTimeFromMs } from './series.js';

// meterline's metrics about itself, as data: scrapes served by result, scrape and collection duration, internal
// faults by component, pushes. Counted at scrape, collection and push time only, never per request.

export const SELF_METRICS = defineMetrics({
  scrapes: ['meterline.scrapes', '{scrape}', 'Scrapes of the metrics endpoint, by result.'],
  scrapeDuration: [
    'meterline.scrape.duration',
    's',
    'Time to answer a scrape, from the request to the last byte handed to the socket.',
  ],
  collectionDuration: [
    'meterline.collection.duration',
    's',
    'Time to collect every metric of the process (scrapes, pushes and textfile writes).',
  ],
  internalFaults: [
    'meterline.internal_faults',
    '{fault}',
    'Faults inside meterline, swallowed so the app is unaffected (each logged once), by component.',
  ],
  pushAttempts: ['meterline.push.attempts', '{push}', 'Pushes to a Pushgateway started.'],
  pushFailures: [
    'meterline.push.failures',
    '{push}',
    'Pushes to a Pushgateway that failed after all their retries.',
  ],
  pushLastSuccess: [
    'meterline.push.last_success_timestamp',
    's',
    'Unix time of the last successful push to a Pushgateway.',
  ],
});

/**
 * The `result` label values of `meterline_scrapes_total`: `ok` (200), `unauthorized` (401), `overload` (503, past
 * maxConcurrentScrapes), `timeout` (500, collection slower than timeoutMs), `error` (500, collection or
 * serialisation failed), `aborted` (the scraper went away before the end of the body).
 */
export const SCRAPE_RESULTS = Object.freeze([
  'ok',
  'unauthorized',
  'overload',
  'timeout',
  'error',
  'aborted',
] as const);
export type ScrapeResult = (typeof SCRAPE_RESULTS)[number];
const SCRAPE_INDEX: Record<ScrapeResult, number> = Object.fromEntries(
  SCRAPE_RESULTS.map((r, i) => [r, i]),
) as Record<ScrapeResult, number>;

/** Buckets of the scrape and collection duration histograms, seconds: 1 ms to 10 s. */
export const SELF_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

const SCRAPE_ATTRS: readonly Attributes[] = SCRAPE_RESULTS.map((result) => Object.freeze({ result }));
const FAULT_ATTRS: readonly Attributes[] = FAULT_COMPONENTS.map((component) => Object.freeze({ component }));
const NO_ATTRS: Attributes = Object.freeze({});

/** The counts behind the self-metrics of one runtime (faults are process-wide: see faults.ts). */
export class SelfMetrics {
  readonly startTime: HrTime = hrTimeFromMs(Date.now());
  readonly scrapes: number[] = SCRAPE_RESULTS.map(() => 0);
  readonly scrapeDuration = new FixedHistogram(SELF_DURATION_BUCKETS);
  readonly collectionDuration = new FixedHistogram(SELF_DURATION_BUCKETS);
  /** Push families are exported once something in the process pushes (a web app without pushes shows none). */
  pushInUse = false;
  pushAttempts = 0;
  pushFailures = 0;
  /** Unix seconds of the last successful push; undefined before the first one. */
  pushLastSuccess: number | undefined = undefined;

  constructor(readonly enabled: boolean) {}

  /** A scrape ended with `result` after `seconds`. */
  scraped(result: ScrapeResult, seconds: number): void {
    this.scrapes[SCRAPE_INDEX[result]]++;
    this.scrapeDuration.record(seconds);
  }

  /** A collection of every metric took `seconds`. */
  collected(seconds: number): void {
    this.collectionDuration.record(seconds);
  }

  /** A push started. */
  pushStarted(): void {
    this.pushInUse = true;
    this.pushAttempts++;
  }

  /** A push ended: `ok` after a 2xx answer, else after all its retries failed. */
  pushEnded(ok: boolean, nowMs = Date.now()): void {
    this.pushInUse = true;
    if (ok) this.pushLastSuccess = nowMs / 1000;
    else this.pushFailures++;
  }

  /** The self-metric families as OpenTelemetry metric data (cumulative); none when disabled. */
  metricData(endTime: HrTime): MetricData[] {
    if (!this.enabled) return [];
    const start = this.startTime;
    const faults = faultCounts();
    const out: MetricData[] = [
      metricData(
        SELF_METRICS.scrapes,
        'counter',
        SCRAPE_ATTRS.map((attributes, i) => ({
          attributes,
          startTime: start,
          endTime,
          value: this.scrapes[i],
        })),
      ),
      metricData(SELF_METRICS.scrapeDuration, 'histogram', [
        { attributes: NO_ATTRS, startTime: start, endTime, value: this.scrapeDuration.toPoint() },
      ]),
      metricData(SELF_METRICS.collectionDuration, 'histogram', [
        { attributes: NO_ATTRS, startTime: start, endTime, value: this.collectionDuration.toPoint() },
      ]),
      metricData(
        SELF_METRICS.internalFaults,
        'counter',
        FAULT_ATTRS.map((attributes, i) => ({ attributes, startTime: start, endTime, value: faults[i] })),
      ),
    ];
    if (this.pushInUse) {
      out.push(
        metricData(SELF_METRICS.pushAttempts, 'counter', [
          { attributes: NO_ATTRS, startTime: start, endTime, value: this.pushAttempts },
        ]),
        metricData(SELF_METRICS.pushFailures, 'counter', [
          { attributes: NO_ATTRS, startTime: start, endTime, value: this.pushFailures },
        ]),
      );
      if (this.pushLastSuccess !== undefined) {
        out.push(
          metricData(SELF_METRICS.pushLastSuccess, 'gauge', [
            { attributes: NO_ATTRS, startTime: start, endTime, value: this.pushLastSuccess },
          ]),
        );
      }
    }
    return out;
  }
}

/** The self-metrics of a runtime, or undefined for a runtime of a core version without them. */
export function selfMetricsOf(runtime: unknown): SelfMetrics | undefined {
  const self = (runtime as { store?: { self?: Partial<SelfMetrics> } } | undefined)?.store?.self;
  // duck-typed: the ESM and CJS builds of core have distinct classes
  return typeof self?.pushStarted === 'function' ? (self as SelfMetrics) : undefined;
}
