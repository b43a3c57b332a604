/**
 * Prometheus recording and alert rules for meterline metrics.
 *
 * Recording rules follow Prometheus' `level:metric:operations` convention: the level names the labels kept
 * (`job_route` = job and the route label), the metric keeps its scraped name (without `_total`), and the
 * operations name what was done (`rate5m`, `ratio_rate5m`, `p95_rate5m`, `sum`).
 */

/** Options for {@link recordingRules}, {@link alertRules} and {@link dashboard}. Every option has a default. */
export interface RuleOptions {
  /** Alert when a route's error ratio is above this fraction (0 < x < 1). Default 0.05. */
  errorRatio?: number;
  /** Alert when a route's p95 latency is above this many seconds. Default 0.5. */
  p95?: number;
  /** Rate window of the recording rules, a Prometheus duration. Default `5m`. */
  window?: string;
  /** How long a condition must hold before an alert fires, a Prometheus duration. Default `10m`. */
  for?: string;
  /** The label holding the route template. Default `http_route`. */
  routeLabel?: string;
  /**
   * Per-route error-ratio and latency alerts need at least this many requests per second on the route, so one
   * failed request out of two at night does not page. Default 0.1 (6 requests a minute). 0 disables the gate.
   */
  minRate?: number;
  /** Alert when a batch job's last success is older than this, a Prometheus duration. Default `26h`. */
  batchMaxAge?: string;
  /**
   * Which responses are errors, as label matchers on `http_server_request_duration_seconds_count`. Default:
   * everything with an `error_type` (5xx, thrown exceptions) except client aborts.
   */
  errorMatchers?: string;
}

export interface ResolvedRuleOptions {
  errorRatio: number;
  p95: number;
  window: string;
  for: string;
  routeLabel: string;
  minRate: number;
  batchMaxAge: string;
  errorMatchers: string;
}

export const DEFAULT_RULE_OPTIONS: Readonly<ResolvedRuleOptions> = Object.freeze({
  errorRatio: 0.05,
  p95: 0.5,
  window: '5m',
  for: '10m',
  routeLabel: 'http_route',
  minRate: 0.1,
  batchMaxAge: '26h',
  errorMatchers: 'error_type!="", error_type!="aborted"',
});

export interface RecordingRule {
  record: string;
  expr: string;
}
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup<R> {
  name: string;
  rules: R[];
}
export interface RuleFile<R> {
  groups: Array<RuleGroup<R>>;
}

/** Names of the rule groups, for `group_eval_order` in `promtool test rules`. */
export const RECORDING_GROUP = 'meterline-recording';
export const ALERT_GROUP = 'meterline-alerts';

const DURATION_UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const DURATION_PART_RE = /(\d+)(ms|s|m|h|d|w|y)/g;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Seconds in a Prometheus duration such as `5m` or `1h30m`. Throws naming `option` when it is not one. */
export function durationSeconds(value: string, option = 'duration'): number {
  if (typeof value !== 'string' || !DURATION_RE.test(value)) {
    throw new TypeError(`meterline rules: option "${option}" must be a Prometheus duration such as 5m or 1h30m, got ${JSON.stringify(value)}`);
  }
  let total = 0;
  for (const m of value.matchAll(DURATION_PART_RE)) total += Number(m[1]) * DURATION_UNIT_SECONDS[m[2]];
  if (total <= 0) throw new RangeError(`meterline rules: option "${option}" must be longer than 0, got ${JSON.stringify(value)}`);
  return total;
}

function finite(value: unknown, option: string, min: number, max: number, inclusiveMin: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (inclusiveMin ? value < min : value <= min) || value > max) {
    const low = inclusiveMin ? `>= ${min}` : `> ${min}`;
    throw new RangeError(`meterline rules: option "${option}" must be a number ${low} and <= ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function percent(x: number): string {
  return `${Number((x * 100).toPrecision(12))}%`;
}

const KNOWN_OPTIONS = new Set(Object.keys(DEFAULT_RULE_OPTIONS));

/** Fills in defaults and validates; throws a message naming the bad option. */
export function resolveRuleOptions(options: RuleOptions = {}): ResolvedRuleOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('meterline rules: options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`meterline rules: unknown option "${key}"`);
  }
  const o: ResolvedRuleOptions = { ...DEFAULT_RULE_OPTIONS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  finite(o.errorRatio, 'errorRatio', 0, 1, false);
  finite(o.p95, 'p95', 0, 3600, false);
  finite(o.minRate, 'minRate', 0, 1e9, true);
  durationSeconds(o.window, 'window');
  durationSeconds(o.for, 'for');
  durationSeconds(o.batchMaxAge, 'batchMaxAge');
  if (typeof o.routeLabel !== 'string' || !LABEL_RE.test(o.routeLabel) || o.routeLabel.startsWith('__')) {
    throw new TypeError(`meterline rules: option "routeLabel" must be a Prometheus label name, got ${JSON.stringify(o.routeLabel)}`);
  }
  if (typeof o.errorMatchers !== 'string' || o.errorMatchers.trim() === '' || /[{}]/.test(o.errorMatchers)) {
    throw new TypeError('meterline rules: option "errorMatchers" must be label matchers without braces, e.g. error_type!=""');
  }
  return o;
}

/** The names of the recording rules for the given options (the window is part of the names). */
export function recordingNames(options: RuleOptions = {}) {
  const { window: w } = resolveRuleOptions(options);
  const D = 'http_server_request_duration_seconds';
  return {
    instanceRouteRate: `job_instance_route:${D}_count:rate${w}`,
    instanceRouteErrors: `job_instance_route:http_server_request_errors:rate${w}`,
    routeRate: `job_route:${D}_count:rate${w}`,
    routeErrors: `job_route:http_server_request_errors:rate${w}`,
    routeErrorRatio: `job_route:http_server_request_errors_per_requests:ratio_rate${w}`,
    routeBuckets: `job_route:${D}_bucket:rate${w}`,
    routeP50: `job_route:${D}:p50_rate${w}`,
    routeP95: `job_route:${D}:p95_rate${w}`,
    routeP99: `job_route:${D}:p99_rate${w}`,
    jobRate: `job:${D}_count:rate${w}`,
    inFlight: 'job_instance:http_server_active_requests:sum',
    networkBytes: `job_instance_direction:network_server_io_bytes:rate${w}`,
    connections: 'job_instance:network_server_active_connections:sum',
  };
}

/** Recording rules: per-route request rate, error ratio, p50/p95/p99, in-flight, network bytes rate. */
export function recordingRules(options: RuleOptions = {}): RuleFile<RecordingRule> {
  const o = resolveRuleOptions(options);
  const n = recordingNames(o);
  const R = o.routeLabel;
  const W = o.window;
  const D = 'http_server_request_duration_seconds';
  const rules: RecordingRule[] = [
    { record: n.instanceRouteRate, expr: `sum by (job, instance, ${R}) (rate(${D}_count[${W}]))` },
    { record: n.instanceRouteErrors, expr: `sum by (job, instance, ${R}) (rate(${D}_count{${o.errorMatchers}}[${W}]))` },
    { record: n.routeRate, expr: `sum by (job, ${R}) (${n.instanceRouteRate})` },
    { record: n.routeErrors, expr: `sum by (job, ${R}) (${n.instanceRouteErrors})` },
    { record: n.routeErrorRatio, expr: `${n.routeErrors} / ${n.routeRate}` },
    { record: n.routeBuckets, expr: `sum by (job, ${R}, le) (rate(${D}_bucket[${W}]))` },
    { record: n.routeP50, expr: `histogram_quantile(0.5, ${n.routeBuckets})` },
    { record: n.routeP95, expr: `histogram_quantile(0.95, ${n.routeBuckets})` },
    { record: n.routeP99, expr: `histogram_quantile(0.99, ${n.routeBuckets})` },
    { record: n.jobRate, expr: `sum by (job) (${n.routeRate})` },
    { record: n.inFlight, expr: 'sum by (job, instance) (http_server_active_requests)' },
    { record: n.networkBytes, expr: `sum by (job, instance, network_io_direction) (rate(network_server_io_bytes_total[${W}]))` },
    { record: n.connections, expr: 'sum by (job, instance) (network_server_active_connections)' },
  ];
  return { groups: [{ name: RECORDING_GROUP, rules }] };
}

/**
 * Alert rules: per-route error ratio and p95 latency above objective, traffic stopped, scrape target down, batch
 * job not succeeded for too long, meterline's own internal faults and failing pushes. They read the recording
 * rules, so load both files.
 */
export function alertRules(options: RuleOptions = {}): RuleFile<AlertRule> {
  const o = resolveRuleOptions(options);
  const n = recordingNames(o);
  const R = o.routeLabel;
  const route = `{{ or $labels.${R} "(unmatched)" }}`;
  const gate = o.minRate > 0 ? `\nand\n${n.routeRate} >= ${o.minRate}` : '';
  const maxAge = durationSeconds(o.batchMaxAge, 'batchMaxAge');
  const rules: AlertRule[] = [
    {
      alert: 'MeterlineHighErrorRatio',
      expr: `${n.routeErrorRatio} > ${o.errorRatio}${gate}`,
      for: o.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: `${route} on {{ $labels.job }} fails {{ $value | humanizePercentage }} of requests`,
        description: `The error ratio of route ${route} of job {{ $labels.job }} over ${o.window} is {{ $value | humanizePercentage }}, above the objective of ${percent(o.errorRatio)} for ${o.for}.`,
      },
    },
    {
      alert: 'MeterlineHighLatency',
      expr: `${n.routeP95} > ${o.p95}${gate}`,
      for: o.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${route} on {{ $labels.job }} is slow: p95 {{ $value | humanizeDuration }}`,
        description: `The 95th percentile latency of route ${route} of job {{ $labels.job }} over ${o.window} is {{ $value | humanizeDuration }}, above the objective of ${o.p95}s for ${o.for}.`,
      },
    },
    {
      alert: 'MeterlineTrafficStopped',
      expr: `${n.jobRate} == 0`,
      for: o.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.job }} receives no requests',
        description: `Job {{ $labels.job }} served requests before but none in the last ${o.window}, for ${o.for}. Disable this alert for services that are idle by design.`,
      },
    },
    {
      alert: 'MeterlineTargetDown',
      expr: 'up == 0',
      for: o.for,
      labels: { severity: 'critical' },
      annotations: {
        summary: '{{ $labels.instance }} of {{ $labels.job }} cannot be scraped',
        description: `Prometheus has failed to scrape {{ $labels.instance }} of job {{ $labels.job }} for ${o.for}.`,
      },
    },
    {
      alert: 'MeterlineBatchJobStale',
      expr: `time() - batch_job_last_success_timestamp_seconds > ${maxAge}`,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Batch job {{ $labels.job }} has not succeeded for {{ $value | humanizeDuration }}',
        description: `The last success of batch job {{ $labels.job }}{{ with $labels.instance }} ({{ . }}){{ end }} pushed to the Pushgateway is {{ $value | humanizeDuration }} old, more than ${o.batchMaxAge}.`,
      },
    },
    {
      // faults are sporadic: any in the window is worth a look, no `for`
      alert: 'MeterlineInternalFaults',
      expr: `sum by (job, instance, component) (increase(meterline_internal_faults_total[${o.window}])) > 0`,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'meterline in {{ $labels.job }} swallowed faults in {{ $labels.component }}',
        description: `meterline in {{ $labels.instance }} of job {{ $labels.job }} counted {{ $value | humanize }} internal faults in component {{ $labels.component }} over ${o.window}. Requests are unaffected, but its metrics may be incomplete; the process log has the first fault of each kind.`,
      },
    },
    {
      alert: 'MeterlinePushFailing',
      expr: `sum by (job, instance) (increase(meterline_push_failures_total[${o.window}])) > 0`,
      for: o.for,
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.job }} fails to push to the Pushgateway',
        description: `Pushes of {{ $labels.job }}{{ with $labels.instance }} ({{ . }}){{ end }} to the Pushgateway have been failing for ${o.for}: the gateway holds stale values until one succeeds (nothing counted is lost, the next successful push carries it).`,
      },
    },
  ];
  return { groups: [{ name: ALERT_GROUP, rules }] };
}
