import { getMeterline } from '@meterline/core';
import { selfMetricsOf, validate } from '@meterline/core/adapter';
import {
  asPushError,
  checkPushTarget,
  countPush,
  PushError,
  selectedText,
  toPushgateway,
  type PushCallbacks,
  type PushOptions,
  type Pushgateway,
  type PushgatewayOptions,
  type PushResult,
} from './push.js';
import { Repeater, stableText, type RepeatSettings } from './repeat.js';
import { callSafely } from './report.js';
import { SHUTDOWN_SIGNALS } from './shutdown.js';
import { checkInterval, checkSignals, checkSelection } from './option-checks.js';

export interface ScheduledPushOptions extends PushOptions, PushCallbacks {
  /** The Pushgateway (a `Pushgateway`, its options or its URL); its own retries apply to each push. */
  pushgateway: Pushgateway | PushgatewayOptions | string;
  /**
   * Further grouping labels. Several replicas pushing the same `job` need one that tells them apart, e.g.
   * `{ instance: os.hostname() }` or the pod name: a PUT replaces the whole group, so replicas sharing a group
   * overwrite each other (default none).
   */
  grouping?: Record<string, string>;
  /** Time between pushes in ms (default 15000). The first push is made at once. */
  intervalMs?: number;
  /**
   * After a failed push, wait this long before the next one (ms), doubled for each further failure in a row and
   * never longer than `intervalMs` (default 1000, or `intervalMs` if shorter).
   */
  retryMs?: number;
  /** PUT (default): the group holds exactly what was pushed last. POST: only the families pushed are replaced. */
  method?: 'PUT' | 'POST';
  /**
   * Push once more when the schedule is stopped, and when the process gets one of `signals` or reaches
   * `beforeExit` (default true). The signal then still ends the process as it would have.
   */
  finalPush?: boolean;
  /** Signals that trigger the final push (default `['SIGTERM', 'SIGINT']`; `[]`: none). */
  signals?: NodeJS.Signals[];
  /** Longest wait for the final push at shutdown, ms (default 5000). */
  finalPushTimeoutMs?: number;
  /** Called when a push failed after its retries (default: one process warning per failure streak). */
  onPushError?: (error: PushError) => void;
}

const KEYS = [
  'pushgateway',
  'job',
  'grouping',
  'intervalMs',
  'retryMs',
  'method',
  'metrics',
  'targetInfo',
  'finalPush',
  'signals',
  'finalPushTimeoutMs',
  'onPush',
  'onPushError',
  'runtime',
] as const;

/** A running schedule of pushes: see {@link schedulePush}. */
export class ScheduledPush {
  private readonly repeater: Repeater;
  /** The last push's result or error (undefined before the first one ends). */
  last: PushResult | PushError | undefined;

  /** @internal use schedulePush() */
  constructor(
    collect: () => Promise<string>,
    push: (text: string) => Promise<PushResult>,
    private readonly settings: RepeatSettings,
    onError: (error: PushError) => void,
    onPush: (result: PushResult) => void,
  ) {
    /** What the last successful push carried, volatile self-metrics left out. */
    let lastPushed: string | undefined;
    this.repeater = new Repeater(async (onlyIfChanged) => {
      try {
        const text = await collect();
        const stable = stableText(text);
        if (onlyIfChanged && stable === lastPushed) return true;
        const result = await push(text);
        lastPushed = stable;
        this.last = result;
        callSafely(onPush, result, 'onPush callback');
        return true;
      } catch (err) {
        const error = asPushError(err, 'scheduled push', '', '');
        this.last = error;
        callSafely(onError, error, 'onPushError callback');
        return false;
      }
    }, settings);
  }

  /** Failed pushes in a row (0 after a success). */
  get consecutiveFailures(): number {
    return this.repeater.consecutiveFailures;
  }

  /** Push now, outside the schedule (after the push in flight); resolves true on success. */
  pushNow(): Promise<boolean> {
    return this.repeater.runNow();
  }

  /**
   * Stop pushing. With `finalPush` (default: the schedule's `finalPush` option) push once more first, so the
   * gateway holds the latest counts. Resolves when done; never rejects (failures go to `onPushError`).
   */
  stop(options: { finalPush?: boolean } = {}): Promise<void> {
    return this.repeater.stop(options.finalPush ?? this.settings.final);
  }
}

/**
 * Push everything the process exposes to a Pushgateway now and then every `intervalMs`, until stopped. Each push
 * is a fresh collection of the cumulative counts, so a push after an outage carries everything counted meanwhile:
 * nothing is lost while the gateway is down. A failed push (after the gateway client's own retries) is retried
 * sooner, backing off up to the interval. The process's shutdown (SIGTERM, SIGINT, `beforeExit`) triggers a final
 * push, and the process still ends as it would have. Pushes are counted in `meterline_push_attempts_total`,
 * `meterline_push_failures_total` and `meterline_push_last_success_timestamp_seconds`.
 */
export function schedulePush(options: ScheduledPushOptions): ScheduledPush {
  const where = 'meterline.schedulePush';
  validate.checkObject(where, 'options', options);
  if (options === undefined)
    validate.fail(where, 'pushgateway', undefined, 'expected { pushgateway, job } at least');
  validate.checkKnown(where, options, KEYS);
  if (options.pushgateway === undefined)
    validate.fail(where, 'pushgateway', undefined, 'expected a Pushgateway, its options or its URL');
  const gateway = toPushgateway(where, options.pushgateway);
  checkPushTarget(where, { job: options.job, grouping: options.grouping });
  checkInterval(where, 'intervalMs', options.intervalMs, 10);
  checkInterval(where, 'retryMs', options.retryMs, 1);
  validate.checkInteger(where, 'finalPushTimeoutMs', options.finalPushTimeoutMs, 1, 600_000);
  if (options.method !== undefined && options.method !== 'PUT' && options.method !== 'POST')
    validate.fail(where, 'method', options.method, 'expected "PUT" (replace the group) or "POST" (add)');
  validate.checkBoolean(where, 'targetInfo', options.targetInfo);
  validate.checkBoolean(where, 'finalPush', options.finalPush);
  checkSignals(where, options.signals);
  validate.checkFunction(where, 'onPush', options.onPush);
  validate.checkFunction(where, 'onPushError', options.onPushError);
  checkSelection(where, options.metrics);
  const runtime = options.runtime ?? getMeterline();
  const intervalMs = options.intervalMs ?? 15_000;
  const target = { job: options.job, grouping: options.grouping };
  const method = options.method ?? 'PUT';
  // the push families show from the start, so a first failure is already an increase of the counter
  const self = selfMetricsOf(runtime);
  if (self !== undefined) self.pushInUse = true;
  let warned = false;
  const onError =
    options.onPushError ??
    ((error: PushError) => {
      if (warned) return;
      warned = true;
      process.emitWarning(
        `${error.message} (retrying; further failures are not warned until a push succeeds)`,
        {
          code: 'METERLINE_PUSH',
        },
      );
    });
  const onPush = (result: PushResult): void => {
    warned = false;
    options.onPush?.(result);
  };
  return new ScheduledPush(
    () => selectedText(runtime, options),
    (text) => countPush(runtime, () => gateway.pushText(method, target, text)),
    {
      intervalMs,
      retryMs: Math.min(options.retryMs ?? 1000, intervalMs),
      final: options.finalPush ?? true,
      signals: options.signals ?? SHUTDOWN_SIGNALS,
      finalTimeoutMs: options.finalPushTimeoutMs ?? 5000,
    },
    onError,
    onPush,
  );
}
