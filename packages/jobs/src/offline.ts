import type { Attributes, Counter, Gauge, Histogram, UpDownCounter } from '@opentelemetry/api';
import { getMeterline, type Meterline } from '@meterline/core';
import { errorTypeOf, reportOnce, validate } from '@meterline/core/adapter';
import { perMeterProvider } from './meter.js';

/** Buckets of the offline worker duration histograms in seconds: semconv's up to 10 s, then up to 5 minutes. */
export const OFFLINE_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300,
]);

/** Prometheus names of the offline worker metrics (as scraped). */
export const OFFLINE_WORKER_METRICS = Object.freeze({
  itemsReceived: 'offline_worker_items_received_total',
  itemsProcessed: 'offline_worker_items_processed_total',
  itemsFailed: 'offline_worker_items_failed_total',
  itemsInProgress: 'offline_worker_items_in_progress',
  lastProcessed: 'offline_worker_last_processed_timestamp_seconds',
  itemDuration: 'offline_worker_item_duration_seconds',
  stageDuration: 'offline_worker_stage_duration_seconds',
  batchesReceived: 'offline_worker_batches_received_total',
  batchesProcessed: 'offline_worker_batches_processed_total',
  batchesFailed: 'offline_worker_batches_failed_total',
  batchDuration: 'offline_worker_batch_duration_seconds',
});

interface WorkerInstruments {
  received: Counter;
  processed: Counter;
  failed: Counter;
  inProgress: UpDownCounter;
  lastProcessed: Gauge;
  itemDuration: Histogram;
  stageDuration: Histogram;
  batchesReceived: Counter;
  batchesProcessed: Counter;
  batchesFailed: Counter;
  batchDuration: Histogram;
}

const workerInstruments = perMeterProvider((meter): WorkerInstruments => {
  const advice = { explicitBucketBoundaries: [...OFFLINE_DURATION_BUCKETS] };
  return {
    received: meter.createCounter('offline_worker.items.received', {
      unit: '{item}',
      description: 'Items the offline worker took in.',
    }),
    processed: meter.createCounter('offline_worker.items.processed', {
      unit: '{item}',
      description: 'Items the offline worker processed successfully (items out).',
    }),
    failed: meter.createCounter('offline_worker.items.failed', {
      unit: '{item}',
      description: 'Items the offline worker failed to process, by error type.',
    }),
    inProgress: meter.createUpDownCounter('offline_worker.items.in_progress', {
      unit: '{item}',
      description: 'Items the offline worker is processing now.',
    }),
    lastProcessed: meter.createGauge('offline_worker.last_processed_timestamp', {
      unit: 's',
      description: 'Unix time the offline worker last processed an item successfully.',
    }),
    itemDuration: meter.createHistogram('offline_worker.item.duration', {
      unit: 's',
      description: 'Time to process one item (process calls), failures included.',
      advice,
    }),
    stageDuration: meter.createHistogram('offline_worker.stage.duration', {
      unit: 's',
      description: 'Time spent in each named stage of the offline worker, failures included.',
      advice,
    }),
    batchesReceived: meter.createCounter('offline_worker.batches.received', {
      unit: '{batch}',
      description: 'Batches the offline worker took in.',
    }),
    batchesProcessed: meter.createCounter('offline_worker.batches.processed', {
      unit: '{batch}',
      description: 'Batches the offline worker processed without an error (batches out).',
    }),
    batchesFailed: meter.createCounter('offline_worker.batches.failed', {
      unit: '{batch}',
      description: 'Batches whose processing threw.',
    }),
    batchDuration: meter.createHistogram('offline_worker.batch.duration', {
      unit: 's',
      description: 'Time to process one batch (processBatch calls), failures included.',
      advice,
    }),
  };
});

/** What a worker's function receives besides the item(s). */
export interface WorkerContext {
  /** Run one named stage and record its duration (`offline_worker_stage_duration_seconds{stage}`). */
  stage<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
}

/** What a batch function receives: stages, and a way to count items that failed inside a batch that went on. */
export interface BatchContext extends WorkerContext {
  /** Count `count` items of this batch as failed (the rest count as processed when the batch returns). */
  itemsFailed(count: number, error?: unknown): void;
}

export interface OfflineWorkerOptions {
  /** Cap on distinct stage names; beyond it stages are recorded as `_OTHER` (default 50). */
  maxStages?: number;
  /** Cap on distinct error types of failed items; beyond it `_OTHER` (default 50). */
  maxErrorTypes?: number;
  /** The runtime whose MeterProvider records (default: the process-wide one). */
  runtime?: Meterline;
}

const OTHER = '_OTHER';

class StageContext implements BatchContext {
  failedCount = 0;
  constructor(private readonly worker: OfflineWorker) {}

  stage<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    return this.worker.runStage(name, fn);
  }

  itemsFailed(count: number, error?: unknown): void {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      validate.fail('meterline.OfflineWorker itemsFailed', 'count', count, 'expected an integer >= 0');
    }
    if (count === 0) return;
    this.failedCount += count;
    this.worker.countFailed(count, error);
  }
}

/**
 * Instruments a continuous consumer (queue worker, stream processor) that Prometheus scrapes through the normal
 * /metrics handler: items in, out, failed and in progress, the last time an item was processed, per-item and
 * per-stage durations, and batches in and out when it works in batches. Every series carries `worker="<name>"`.
 */
export class OfflineWorker {
  readonly name: string;
  private readonly instruments: WorkerInstruments;
  private readonly attributes: Attributes;
  private readonly stageAttributes = new Map<string, Attributes>();
  private readonly errorAttributes = new Map<string, Attributes>();
  private readonly maxStages: number;
  private readonly maxErrorTypes: number;
  private batching = false;
  /** The context of `process` calls: it holds no per-item state, so one serves every item. */
  private readonly itemContext: WorkerContext;
  private otherStage: Attributes | undefined;

  constructor(name: string, options: OfflineWorkerOptions = {}) {
    const where = 'meterline.offlineWorker';
    validate.checkString(where, 'name', name);
    if (typeof name !== 'string')
      validate.fail(where, 'name', name, 'expected a non-empty string (the worker name)');
    validate.checkObject(where, 'options', options);
    validate.checkKnown(where, options, ['maxStages', 'maxErrorTypes', 'runtime']);
    validate.checkInteger(where, 'maxStages', options.maxStages, 1, 10_000);
    validate.checkInteger(where, 'maxErrorTypes', options.maxErrorTypes, 1, 10_000);
    this.name = name;
    this.maxStages = options.maxStages ?? 50;
    this.maxErrorTypes = options.maxErrorTypes ?? 50;
    this.instruments = workerInstruments(options.runtime ?? getMeterline());
    this.attributes = Object.freeze({ worker: name });
    this.itemContext = new StageContext(this);
    // the series exist (at 0) from the start, so rates and absence checks work before the first item
    this.instruments.received.add(0, this.attributes);
    this.instruments.processed.add(0, this.attributes);
    this.instruments.inProgress.add(0, this.attributes);
  }

  /**
   * Process one item: counts it in, in progress while `fn` runs, then out (or failed, by error type) and its
   * duration. `fn(item, context)` gets the item back, so one function can serve every call. Errors pass through.
   */
  async process<I, T>(item: I, fn: (item: I, context: WorkerContext) => T | Promise<T>): Promise<T> {
    const ins = this.instruments;
    const attrs = this.attributes;
    ins.received.add(1, attrs);
    ins.inProgress.add(1, attrs);
    const started = performance.now();
    try {
      const result = await fn(item, this.itemContext);
      ins.processed.add(1, attrs);
      ins.lastProcessed.record(Date.now() / 1000, attrs);
      return result;
    } catch (error) {
      this.countFailed(1, error);
      throw error;
    } finally {
      ins.inProgress.add(-1, attrs);
      ins.itemDuration.record((performance.now() - started) / 1000, attrs);
    }
  }

  /**
   * Process a batch: counts the batch and its items in, in progress while `fn` runs, then the batch out and its
   * items out (less those `context.itemsFailed` marked), or, if `fn` throws, the batch and its remaining items
   * as failed. Errors pass through.
   */
  async processBatch<I, T>(
    items: readonly I[],
    fn: (items: readonly I[], context: BatchContext) => T | Promise<T>,
  ): Promise<T> {
    if (!Array.isArray(items))
      validate.fail('meterline.OfflineWorker.processBatch', 'items', items, 'expected an array');
    const ins = this.instruments;
    const attrs = this.attributes;
    if (!this.batching) {
      this.batching = true;
      ins.batchesProcessed.add(0, attrs);
      ins.batchesFailed.add(0, attrs);
    }
    const n = items.length;
    ins.batchesReceived.add(1, attrs);
    ins.received.add(n, attrs);
    ins.inProgress.add(n, attrs);
    const context = new StageContext(this);
    const started = performance.now();
    try {
      const result = await fn(items, context);
      const ok = Math.max(0, n - context.failedCount);
      ins.batchesProcessed.add(1, attrs);
      if (ok > 0) {
        ins.processed.add(ok, attrs);
        ins.lastProcessed.record(Date.now() / 1000, attrs);
      }
      return result;
    } catch (error) {
      ins.batchesFailed.add(1, attrs);
      const rest = n - context.failedCount;
      if (rest > 0) this.countFailed(rest, error);
      throw error;
    } finally {
      ins.inProgress.add(-n, attrs);
      ins.batchDuration.record((performance.now() - started) / 1000, attrs);
    }
  }

  /** @internal */
  async runStage<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    if (typeof name !== 'string' || name === '')
      validate.fail('meterline.OfflineWorker stage', 'name', name, 'expected a non-empty stage name');
    let attributes = this.stageAttributes.get(name);
    if (attributes === undefined) {
      if (this.stageAttributes.size < this.maxStages) {
        attributes = Object.freeze({ worker: this.name, stage: name });
        this.stageAttributes.set(name, attributes);
      } else {
        attributes = this.otherStage ??= Object.freeze({ worker: this.name, stage: OTHER });
      }
    }
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.instruments.stageDuration.record((performance.now() - started) / 1000, attributes);
    }
  }

  /** @internal */
  countFailed(count: number, error: unknown): void {
    try {
      const type = error === undefined ? OTHER : errorTypeOf(error);
      let attributes = this.errorAttributes.get(type);
      if (attributes === undefined) {
        if (this.errorAttributes.size < this.maxErrorTypes) {
          attributes = Object.freeze({ worker: this.name, 'error.type': type });
          this.errorAttributes.set(type, attributes);
        } else {
          attributes = this.errorAttributes.get(OTHER);
          if (attributes === undefined) {
            attributes = Object.freeze({ worker: this.name, 'error.type': OTHER });
            this.errorAttributes.set(OTHER, attributes);
          }
        }
      }
      this.instruments.failed.add(count, attributes);
    } catch (err) {
      reportOnce('offline worker failure count', err);
    }
  }
}

/** Create an instrumented offline worker: `const worker = offlineWorker('email-sender')`. */
export function offlineWorker(name: string, options?: OfflineWorkerOptions): OfflineWorker {
  return new OfflineWorker(name, options);
}
