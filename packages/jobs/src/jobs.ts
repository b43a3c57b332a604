import type { Attributes, Counter, Gauge } from '@opentelemetry/api';
import {
  asPushError,
  PushError,
  checkPushTarget,
  countPush,
  selectionFilter,
  selectMetrics,
  toPushgateway,
  type MetricSelection,
  type PushCallbacks,
  type PushOptions,
  type Pushgateway,
  type PushgatewayOptions,
} from './push.js';
import { getMeterline, serialize, type Meterline } from '@meterline/core';
import { validate } from '@meterline/core/adapter';
import { perMeterProvider } from './meter.js';
import { callSafely, messageOf } from './report.js';
import { checkTextfilePath, previousFamilyBlock, writeFileAtomically } from './textfile.js';

/** Prometheus names of the batch job metrics (as pushed and scraped). */
export const BATCH_JOB_METRICS = Object.freeze({
  lastSuccess: 'batch_job_last_success_timestamp_seconds',
  lastCompletion: 'batch_job_last_completion_timestamp_seconds',
  duration: 'batch_job_duration_seconds',
  stageDuration: 'batch_job_stage_duration_seconds',
  itemsProcessed: 'batch_job_items_processed_total',
  lastOutcome: 'batch_job_last_outcome',
});
const BATCH_JOB_FAMILIES: ReadonlySet<string> = new Set(Object.values(BATCH_JOB_METRICS));

interface JobInstruments {
  lastSuccess: Gauge;
  lastCompletion: Gauge;
  duration: Gauge;
  stageDuration: Gauge;
  items: Counter;
  outcome: Gauge;
}

const jobInstruments = perMeterProvider((meter): JobInstruments => ({
  lastSuccess: meter.createGauge('batch_job.last_success_timestamp', {
    unit: 's',
    description: 'Unix time of the last successful completion of the batch job.',
  }),
  lastCompletion: meter.createGauge('batch_job.last_completion_timestamp', {
    unit: 's',
    description: 'Unix time of the last completion of the batch job, successful or not.',
  }),
  duration: meter.createGauge('batch_job.duration', {
    unit: 's',
    description: 'Duration of the last run of the batch job.',
  }),
  stageDuration: meter.createGauge('batch_job.stage.duration', {
    unit: 's',
    description: 'Duration of the last run of each stage of the batch job.',
  }),
  items: meter.createCounter('batch_job.items_processed', {
    unit: '{item}',
    description: 'Items the batch job processed.',
  }),
  outcome: meter.createGauge('batch_job.last_outcome', {
    description:
      'Outcome of the last run of the batch job: 1 on the series of the outcome it had, 0 on the other.',
  }),
}));

/** What a job's function receives. */
export interface JobContext {
  /** The job name. */
  readonly name: string;
  /**
   * Run one named stage and record its duration (`batch_job_stage_duration_seconds{stage}`), also when it throws
   * (the error passes through). Use a fixed set of stage names: each one is a series.
   */
  stage<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  /** Count processed items (`batch_job_items_processed_total`). */
  itemsProcessed(count?: number): void;
}

export interface RunJobOptions extends Omit<PushOptions, 'job'>, PushCallbacks {
  /**
   * Where to push at the end (a `Pushgateway`, its options or its URL). Without it the job's metrics are only
   * recorded, for the process's own /metrics.
   */
  pushgateway?: Pushgateway | PushgatewayOptions | string;
  /** Grouping labels besides `job`, e.g. `{ instance: 'db-1' }` (default none). */
  grouping?: Record<string, string>;
  /**
   * Which of the process's other families go along with the job's own `batch_job_*` series (default: all).
   * `[]` pushes the job's series only.
   */
  metrics?: MetricSelection;
  /** After a successful run, throw the `PushError` if the push failed (default false: report it). */
  strict?: boolean;
  /**
   * Also write the job's metrics (selected like the push) to this `*.prom` file at the end of each run, for
   * node_exporter's textfile collector: atomically, mode 0644. After a failed run the file keeps the
   * `batch_job_last_success_timestamp_seconds` of the last successful one, also across processes (default none).
   */
  textfile?: string;
  /** Called when writing `textfile` failed (default: a process warning). The job's own result is unaffected. */
  onTextfileError?: (error: unknown) => void;
  /** The runtime whose MeterProvider records the job (default: the process-wide one). */
  runtime?: Meterline;
}

const RUN_JOB_KEYS = [
  'pushgateway',
  'grouping',
  'metrics',
  'targetInfo',
  'strict',
  'onPush',
  'onPushError',
  'textfile',
  'onTextfileError',
  'runtime',
] as const;

function seconds(ms: number): number {
  return ms / 1000;
}

function defaultPushErrorReport(error: PushError): void {
  process.emitWarning(error.message, { code: 'METERLINE_PUSH' });
}

function defaultTextfileErrorReport(name: string, path: string): (error: unknown) => void {
  return (error) =>
    process.emitWarning(`meterline: writing job ${name} to ${path} failed: ${messageOf(error)}`, {
      code: 'METERLINE_TEXTFILE',
    });
}

/**
 * Run a batch job and record it: start to end duration, each stage's duration, items processed, the outcome,
 * the time of the last completion and of the last success. With `pushgateway`, push at the end, also when the
 * job throws:
 * - success: PUT, the group is replaced by this run's metrics;
 * - failure: POST without `batch_job_last_success_timestamp_seconds`, so the gateway keeps the time of the last
 *   success of an earlier run while everything else is updated.
 * The job's own error is rethrown unchanged and its result returned unchanged; a failing push is reported to
 * `onPushError` (or as a process warning), never thrown unless `strict` is set and the job succeeded.
 */
export async function runJob<T>(
  name: string,
  fn: (job: JobContext) => T | Promise<T>,
  options: RunJobOptions = {},
): Promise<T> {
  const where = 'meterline.runJob';
  validate.checkString(where, 'name', name);
  if (typeof name !== 'string')
    validate.fail(where, 'name', name, 'expected a non-empty string (the job name)');
  if (typeof fn !== 'function') validate.fail(where, 'fn', fn, 'expected the job function');
  validate.checkObject(where, 'options', options);
  validate.checkKnown(where, options, RUN_JOB_KEYS);
  validate.checkBoolean(where, 'strict', options.strict);
  validate.checkBoolean(where, 'targetInfo', options.targetInfo);
  validate.checkFunction(where, 'onPush', options.onPush);
  validate.checkFunction(where, 'onPushError', options.onPushError);
  validate.checkFunction(where, 'onTextfileError', options.onTextfileError);
  const textfile =
    options.textfile === undefined ? undefined : checkTextfilePath(where, 'textfile', options.textfile);
  if (options.grouping !== undefined) checkPushTarget(where, { job: name, grouping: options.grouping });
  const gateway = options.pushgateway === undefined ? undefined : toPushgateway(where, options.pushgateway);
  const runtime = options.runtime ?? getMeterline();
  const instruments = jobInstruments(runtime);
  const jobAttributes: Attributes = Object.freeze({ job: name });
  const success: Attributes = Object.freeze({ job: name, outcome: 'success' });
  const failure: Attributes = Object.freeze({ job: name, outcome: 'failure' });
  const stageAttributes = new Map<string, Attributes>();
  instruments.items.add(0, jobAttributes);

  const context: JobContext = {
    name,
    async stage<S>(stage: string, run: () => S | Promise<S>): Promise<S> {
      if (typeof stage !== 'string' || stage === '')
        validate.fail(`${where} stage`, 'name', stage, 'expected a non-empty stage name');
      if (typeof run !== 'function')
        validate.fail(`${where} stage`, 'fn', run, 'expected the stage function');
      let attributes = stageAttributes.get(stage);
      if (attributes === undefined) {
        attributes = Object.freeze({ job: name, stage });
        stageAttributes.set(stage, attributes);
      }
      const started = performance.now();
      try {
        return await run();
      } finally {
        instruments.stageDuration.record(seconds(performance.now() - started), attributes);
      }
    },
    itemsProcessed(count = 1): void {
      if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
        validate.fail(`${where} itemsProcessed`, 'count', count, 'expected a finite number >= 0');
      }
      instruments.items.add(count, jobAttributes);
    },
  };

  const started = performance.now();
  /** Record the end of the run, then write the textfile and push; resolves to the push's error, if any. */
  const finish = async (succeeded: boolean): Promise<PushError | undefined> => {
    const now = Date.now() / 1000;
    instruments.duration.record(seconds(performance.now() - started), jobAttributes);
    instruments.lastCompletion.record(now, jobAttributes);
    if (succeeded) instruments.lastSuccess.record(now, jobAttributes);
    instruments.outcome.record(succeeded ? 1 : 0, success);
    instruments.outcome.record(succeeded ? 0 : 1, failure);
    if (textfile !== undefined) await writeJobTextfile(textfile, runtime, name, options, succeeded);
    return gateway === undefined ? undefined : pushJob(gateway, runtime, name, options, succeeded);
  };

  let result: T;
  try {
    result = await fn(context);
  } catch (error) {
    const pushError = await finish(false);
    if (pushError !== undefined) report(options, pushError);
    throw error;
  }
  const pushError = await finish(true);
  if (pushError !== undefined) {
    if (options.strict === true) throw pushError;
    report(options, pushError);
  }
  return result;
}

function report(options: RunJobOptions, error: PushError): void {
  callSafely(options.onPushError ?? defaultPushErrorReport, error, 'onPushError callback');
}

/**
 * The exposition of a job's run: its own `batch_job_*` series (without the last success time after a failure)
 * and the process's other families the `metrics` option selects.
 */
async function jobText(
  runtime: Meterline,
  name: string,
  options: RunJobOptions,
  succeeded: boolean,
): Promise<string> {
  const others = selectionFilter(options.metrics);
  const collected = await runtime.collect();
  const selected = selectMetrics(
    collected,
    (family) => {
      if (family === BATCH_JOB_METRICS.lastSuccess) return succeeded;
      if (BATCH_JOB_FAMILIES.has(family)) return true;
      return others === undefined || others(family);
    },
    // only this job's series of the batch_job_* families: another job of the same process has its own group
    (family, attributes) => !BATCH_JOB_FAMILIES.has(family) || attributes.job === name,
  );
  return serialize(selected, { targetInfo: options.targetInfo !== false });
}

/** Write a job's run to its textfile; a failure is reported, never thrown. */
async function writeJobTextfile(
  path: string,
  runtime: Meterline,
  name: string,
  options: RunJobOptions,
  succeeded: boolean,
): Promise<void> {
  try {
    let text = await jobText(runtime, name, options, succeeded);
    // a failed run keeps the last success time the file had (from this process or an earlier one)
    if (!succeeded) text += await previousFamilyBlock(path, BATCH_JOB_METRICS.lastSuccess, 'job', name);
    await writeFileAtomically(path, text);
  } catch (err) {
    callSafely(
      options.onTextfileError ?? defaultTextfileErrorReport(name, path),
      err,
      'textfile onTextfileError callback',
    );
  }
}

/** Push a job's metrics; resolves to the PushError instead of throwing. */
async function pushJob(
  gateway: Pushgateway,
  runtime: Meterline,
  name: string,
  options: RunJobOptions,
  succeeded: boolean,
): Promise<PushError | undefined> {
  const target = { job: name, grouping: options.grouping };
  try {
    const text = await jobText(runtime, name, options, succeeded);
    const result = await countPush(runtime, () => gateway.pushText(succeeded ? 'PUT' : 'POST', target, text));
    callSafely(options.onPush, result, 'onPush callback');
    return undefined;
  } catch (err) {
    return asPushError(err, `pushing job ${name}`, gateway.url, succeeded ? 'PUT' : 'POST');
  }
}
