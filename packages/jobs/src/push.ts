import type { Attributes } from '@opentelemetry/api';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { getMeterline, prometheusName, serialize, type Meterline } from '@meterline/core';
import { DataPointType, selfMetricsOf, validate } from '@meterline/core/adapter';
import { messageOf } from './report.js';
import { checkSelection } from './option-checks.js';

/** Where the Pushgateway is and how hard to try. */
export interface PushgatewayOptions {
  /** Base URL of the Pushgateway, e.g. `http://127.0.0.1:9091` (a path prefix is kept). */
  url: string;
  /** Time limit of one attempt in ms (default 5000). */
  timeoutMs?: number;
  /** Attempts after the first one, on network errors, timeouts and 5xx answers; never on 4xx (default 3). */
  retries?: number;
  /** Wait before the first retry in ms; doubled for each further retry (default 200). */
  backoffMs?: number;
  /** Upper bound of the wait between retries in ms (default 5000). */
  maxBackoffMs?: number;
  /** Extra request headers, e.g. `{ Authorization: 'Bearer ...' }`. */
  headers?: Record<string, string>;
}

/** Which group of the Pushgateway: the job name and further grouping labels. */
export interface PushTarget {
  /** The `job` grouping label (non-empty). */
  job: string;
  /** Further grouping labels, e.g. `{ instance: 'worker-3' }`. Any value works, `/` and empty included. */
  grouping?: Record<string, string>;
}

/** Which metric families to push, by the name they have in the exposition (`_total` included on counters). */
export type MetricSelection = readonly string[] | ((name: string) => boolean);

export interface PushOptions extends PushTarget {
  /** Push only these families (default: everything the process exposes on /metrics). */
  metrics?: MetricSelection;
  /** Include the `target_info` family with the resource attributes (default true). */
  targetInfo?: boolean;
  /** The runtime to collect from (default: the process-wide one). */
  runtime?: Meterline;
}

/** Who hears of the pushes a helper makes for the app (runJob, schedulePush); neither may throw into it. */
export interface PushCallbacks {
  /** Called after each successful push. */
  onPush?: (result: PushResult) => void;
  /** Called when a push failed after its retries (default: a process warning). */
  onPushError?: (error: PushError) => void;
}

export interface PushResult {
  /** The full URL of the group. */
  url: string;
  /** HTTP method used: PUT (replace), POST (add) or DELETE. */
  method: string;
  /** The gateway's HTTP status. */
  status: number;
  /** Attempts it took (1 = no retry). */
  attempts: number;
}

/** A push, add or delete that did not get a 2xx answer, after all attempts it was allowed. */
export class PushError extends Error {
  override readonly name = 'PushError';
  /** The last HTTP status, or undefined when no answer came (network error, timeout). */
  readonly status: number | undefined;
  readonly url: string;
  readonly method: string;
  /** Attempts made (the first one included). */
  readonly attempts: number;
  /** The gateway's answer body of the last attempt (trimmed), if any. */
  readonly body: string | undefined;

  constructor(
    message: string,
    details: {
      status: number | undefined;
      url: string;
      method: string;
      attempts: number;
      body?: string;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.url = details.url;
    this.method = details.method;
    this.attempts = details.attempts;
    this.body = details.body;
  }
}

/** `err` as a PushError: itself if it is one, else one saying `what` failed before any answer from `url`. */
export function asPushError(err: unknown, what: string, url: string, method: string): PushError {
  if (err instanceof PushError) return err;
  return new PushError(`meterline: ${what} failed: ${messageOf(err)}`, {
    status: undefined,
    url,
    method,
    attempts: 0,
    cause: err,
  });
}

const GATEWAY_KEYS = ['url', 'timeoutMs', 'retries', 'backoffMs', 'maxBackoffMs', 'headers'] as const;
const PUSH_KEYS = ['job', 'grouping', 'metrics', 'targetInfo', 'runtime'] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Check `{ job, grouping }`; throws a TypeError naming the bad option. */
export function checkPushTarget(where: string, target: PushTarget): void {
  validate.checkObject(where, 'options', target);
  if (target === undefined) validate.fail(where, 'job', undefined, 'expected a non-empty string');
  validate.checkString(where, 'job', target.job);
  if (target.job === undefined)
    validate.fail(where, 'job', undefined, 'expected a non-empty string (the job grouping label)');
  validate.checkObject(where, 'grouping', target.grouping);
  if (target.grouping !== undefined) {
    for (const [name, value] of Object.entries(target.grouping)) {
      if (!LABEL_NAME.test(name) || name.startsWith('__')) {
        validate.fail(
          where,
          `grouping.${name}`,
          value,
          'label names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"',
        );
      }
      if (name === 'job')
        validate.fail(
          where,
          'grouping.job',
          value,
          'give the job name as the "job" option, not as a grouping label',
        );
      if (typeof value !== 'string')
        validate.fail(where, `grouping.${name}`, value, 'expected a string label value');
    }
  }
}

function base64url(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

/**
 * One `/<name>/<value>` path element as the Pushgateway reads it: plain (percent-encoded) when possible, the
 * `@base64` form for values with `/` (which no percent-encoding gets through), `.`/`..` (which URL parsing would
 * resolve) and the empty value (`<name>@base64/=`).
 */
function pathElement(name: string, value: string): string {
  if (value === '') return `/${name}@base64/=`;
  if (value.includes('/') || value === '.' || value === '..') return `/${name}@base64/${base64url(value)}`;
  return `/${name}/${encodeURIComponent(value)}`;
}

/** The path of a group: `/metrics/job/<job>/<label>/<value>...`, labels in the order given. */
export function groupingPath(target: PushTarget): string {
  let path = '/metrics' + pathElement('job', target.job);
  if (target.grouping !== undefined) {
    for (const name of Object.keys(target.grouping)) path += pathElement(name, target.grouping[name]);
  }
  return path;
}

function familyName(metric: MetricData): string | undefined {
  const d = metric.descriptor;
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      return prometheusName(d.name, d.unit, 'histogram');
    case DataPointType.SUM:
      return metric.isMonotonic
        ? prometheusName(d.name, d.unit, 'counter') + '_total'
        : prometheusName(d.name, d.unit, 'gauge');
    case DataPointType.GAUGE:
      return prometheusName(d.name, d.unit, 'gauge');
    default:
      return undefined;
  }
}

/**
 * Keep the families `keepFamily` accepts and, within them, the points `keepPoint` accepts (both optional).
 * Used to push a subset of what the process exposes.
 */
export function selectMetrics(
  resourceMetrics: ResourceMetrics,
  keepFamily?: (name: string) => boolean,
  keepPoint?: (name: string, attributes: Attributes) => boolean,
): ResourceMetrics {
  if (keepFamily === undefined && keepPoint === undefined) return resourceMetrics;
  const scopeMetrics = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    const metrics: MetricData[] = [];
    for (const metric of scope.metrics) {
      const name = familyName(metric);
      if (name === undefined) {
        metrics.push(metric);
        continue;
      }
      if (keepFamily !== undefined && !keepFamily(name)) continue;
      if (keepPoint === undefined) {
        metrics.push(metric);
        continue;
      }
      const points = (metric.dataPoints as { attributes: Attributes }[]).filter((p) =>
        keepPoint(name, p.attributes),
      );
      if (points.length > 0) metrics.push({ ...metric, dataPoints: points } as MetricData);
    }
    if (metrics.length > 0) scopeMetrics.push({ scope: scope.scope, metrics });
  }
  return { resource: resourceMetrics.resource, scopeMetrics };
}

export function selectionFilter(
  selection: MetricSelection | undefined,
): ((name: string) => boolean) | undefined {
  if (selection === undefined) return undefined;
  if (typeof selection === 'function') return selection;
  const names = new Set(selection);
  return (name) => names.has(name);
}

/** The exposition of what `options` selects (`metrics`, `targetInfo`) from a fresh collection of `runtime`. */
export async function selectedText(
  runtime: Meterline,
  options: Pick<PushOptions, 'metrics' | 'targetInfo'>,
  timeoutMs?: number,
): Promise<string> {
  const collected = await runtime.collect(timeoutMs);
  return serialize(selectMetrics(collected, selectionFilter(options.metrics)), {
    targetInfo: options.targetInfo !== false,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Pushgateway client on Node's built-in fetch: `push` (PUT: replace the group), `pushAdd` (POST: replace only
 * the families pushed), `delete` (DELETE the group). Each call retries network errors, timeouts and 5xx answers
 * with exponential backoff and throws a `PushError` (status, url, attempts) when no attempt got a 2xx answer.
 */
export class Pushgateway {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: PushgatewayOptions | string) {
    const where = 'meterline.Pushgateway';
    const opts: PushgatewayOptions = typeof options === 'string' ? { url: options } : options;
    validate.checkObject(where, 'options', opts);
    if (opts === undefined)
      validate.fail(where, 'url', undefined, 'expected the Pushgateway base URL, e.g. http://127.0.0.1:9091');
    validate.checkKnown(where, opts, GATEWAY_KEYS);
    validate.checkString(where, 'url', opts.url);
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      validate.fail(where, 'url', opts.url, 'expected an absolute http(s) URL, e.g. http://127.0.0.1:9091');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      validate.fail(where, 'url', opts.url, 'expected an http: or https: URL');
    }
    if (parsed.search !== '' || parsed.hash !== '')
      validate.fail(where, 'url', opts.url, 'expected a base URL without query or fragment');
    validate.checkInteger(where, 'timeoutMs', opts.timeoutMs, 1, 600_000);
    validate.checkInteger(where, 'retries', opts.retries, 0, 100);
    validate.checkInteger(where, 'backoffMs', opts.backoffMs, 0, 600_000);
    validate.checkInteger(where, 'maxBackoffMs', opts.maxBackoffMs, 0, 600_000);
    validate.checkObject(where, 'headers', opts.headers);
    if (opts.headers !== undefined) {
      for (const [k, v] of Object.entries(opts.headers)) {
        if (typeof v !== 'string') validate.fail(where, `headers.${k}`, v, 'expected a string header value');
      }
    }
    this.url = parsed.origin + parsed.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 200;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.headers = { ...opts.headers };
  }

  /** PUT: replace every metric of the group with the process's metrics (or the `metrics` selected). */
  push(options: PushOptions): Promise<PushResult> {
    return this.pushWith('PUT', 'meterline.Pushgateway.push', options);
  }

  /** POST: replace only the families pushed; the group's other families stay. */
  pushAdd(options: PushOptions): Promise<PushResult> {
    return this.pushWith('POST', 'meterline.Pushgateway.pushAdd', options);
  }

  /** DELETE the whole group. */
  delete(target: PushTarget): Promise<PushResult> {
    const where = 'meterline.Pushgateway.delete';
    checkPushTarget(where, target);
    validate.checkKnown(where, target, ['job', 'grouping']);
    return this.send('DELETE', target, undefined);
  }

  /** Send exposition text you built yourself (PUT or POST) to a group. */
  async pushText(method: 'PUT' | 'POST', target: PushTarget, text: string): Promise<PushResult> {
    checkPushTarget('meterline.Pushgateway.pushText', target);
    if (method !== 'PUT' && method !== 'POST')
      validate.fail('meterline.Pushgateway.pushText', 'method', method, 'expected "PUT" or "POST"');
    return this.send(method, target, text);
  }

  private async pushWith(method: 'PUT' | 'POST', where: string, options: PushOptions): Promise<PushResult> {
    checkPushTarget(where, options);
    validate.checkKnown(where, options, PUSH_KEYS);
    checkSelection(where, options.metrics);
    validate.checkBoolean(where, 'targetInfo', options.targetInfo);
    const runtime = options.runtime ?? getMeterline();
    return countPush(runtime, async () => {
      return this.send(method, options, await selectedText(runtime, options, this.timeoutMs));
    });
  }

  private async send(method: string, target: PushTarget, body: string | undefined): Promise<PushResult> {
    const url = this.url + groupingPath(target);
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['Content-Type'] = 'text/plain; version=0.0.4; charset=utf-8';
    let attempts = 0;
    let lastStatus: number | undefined;
    let lastBody: string | undefined;
    let lastError: unknown;
    for (;;) {
      attempts++;
      let retryable: boolean;
      try {
        const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
        lastStatus = res.status;
        const text = await res.text().catch(() => '');
        if (res.status >= 200 && res.status < 300) return { url, method, status: res.status, attempts };
        lastBody = text.trim().slice(0, 1000);
        lastError = undefined;
        retryable = res.status >= 500;
      } catch (err) {
        lastStatus = undefined;
        lastBody = undefined;
        lastError = err;
        retryable = true;
      }
      if (!retryable || attempts > this.retries) break;
      await sleep(Math.min(this.backoffMs * 2 ** (attempts - 1), this.maxBackoffMs));
    }
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    let message: string;
    if (lastStatus !== undefined) {
      message = `meterline: Pushgateway ${method} ${url} answered ${lastStatus} after ${tries}${lastBody ? `: ${lastBody}` : ''}`;
    } else {
      message = `meterline: Pushgateway ${method} ${url} unreachable after ${tries}: ${describe(lastError, this.timeoutMs)}`;
    }
    throw new PushError(message, {
      status: lastStatus,
      url,
      method,
      attempts,
      body: lastBody,
      cause: lastError,
    });
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause !== undefined && cause !== null) {
      if (typeof cause.message === 'string' && cause.message !== '') return cause.message;
      if (typeof cause.code === 'string') return cause.code;
    }
    return err.message;
  }
  return String(err);
}

/**
 * Push the process's metrics once and wait for it: the whole push-on-exit of a short job in one call.
 * `method` 'PUT' (default) replaces the group, 'POST' replaces only the families pushed.
 */
export async function pushMetrics(
  options: PushgatewayOptions & PushOptions & { method?: 'PUT' | 'POST' },
): Promise<PushResult> {
  const where = 'meterline.pushMetrics';
  validate.checkObject(where, 'options', options);
  if (options === undefined) validate.fail(where, 'url', undefined, 'expected { url, job } at least');
  validate.checkKnown(where, options, [...GATEWAY_KEYS, ...PUSH_KEYS, 'method']);
  const { url, timeoutMs, retries, backoffMs, maxBackoffMs, headers, method = 'PUT', ...push } = options;
  if (method !== 'PUT' && method !== 'POST')
    validate.fail(where, 'method', method, 'expected "PUT" (replace) or "POST" (add)');
  const gateway = new Pushgateway({ url, timeoutMs, retries, backoffMs, maxBackoffMs, headers });
  return method === 'PUT' ? gateway.push(push) : gateway.pushAdd(push);
}

/**
 * Run one push and count it in the runtime's self-metrics: `meterline_push_attempts_total`,
 * `meterline_push_failures_total` (failed after all retries), `meterline_push_last_success_timestamp_seconds`.
 * The push carries the counts from before it: its own outcome arrives with the next one.
 */
export async function countPush<T>(runtime: Meterline, push: () => Promise<T>): Promise<T> {
  const self = selfMetricsOf(runtime);
  self?.pushStarted();
  let ok = false;
  try {
    const result = await push();
    ok = true;
    return result;
  } finally {
    self?.pushEnded(ok);
  }
}

/** Accept a Pushgateway, its options or its URL. */
export function toPushgateway(where: string, value: unknown): Pushgateway {
  if (value instanceof Pushgateway) return value;
  if (typeof value === 'string' || (value !== null && typeof value === 'object')) {
    return new Pushgateway(value as PushgatewayOptions | string);
  }
  return validate.fail(where, 'pushgateway', value, 'expected a Pushgateway, its options or its URL');
}
