import { resolveRuleOptions, type RecordingRule, type RuleFile, type RuleOptions } from './rules.js';

/**
 * Native-histogram variants of the latency queries, for services with `nativeHistograms: true` scraped by a
 * Prometheus started with `--enable-feature=native-histograms`. A native histogram is one series (no `_bucket`, `le`,
 * `_count`): `histogram_quantile` reads it directly, `histogram_count` gives the request rate.
 */

export const NATIVE_RECORDING_GROUP = 'meterline-recording-native';
const D = 'http_server_request_duration_seconds';

/** The names of the native recording rules (the window is part of the names). */
export function nativeRecordingNames(options: RuleOptions = {}) {
  const { window: w } = resolveRuleOptions(options);
  return {
    routeRate: `job_route:${D}:native_count_rate${w}`,
    routeP50: `job_route:${D}:native_p50_rate${w}`,
    routeP95: `job_route:${D}:native_p95_rate${w}`,
    routeP99: `job_route:${D}:native_p99_rate${w}`,
  };
}

/** The native per-route latency quantile over `window`, e.g. `histogram_quantile(0.95, sum by (job, http_route) (rate(...[5m])))`. */
export function nativeQuantile(q: number, options: RuleOptions = {}, selector = ''): string {
  const o = resolveRuleOptions(options);
  const s = selector === '' ? '' : `{${selector}}`;
  return `histogram_quantile(${q}, sum by (job, ${o.routeLabel}) (rate(${D}${s}[${o.window}])))`;
}

/** Recording rules over the native histogram: per-route request rate and p50/p95/p99. */
export function nativeRecordingRules(options: RuleOptions = {}): RuleFile<RecordingRule> {
  const o = resolveRuleOptions(options);
  const n = nativeRecordingNames(o);
  const R = o.routeLabel;
  const rules: RecordingRule[] = [
    { record: n.routeRate, expr: `sum by (job, ${R}) (histogram_count(rate(${D}[${o.window}])))` },
    { record: n.routeP50, expr: nativeQuantile(0.5, o) },
    { record: n.routeP95, expr: nativeQuantile(0.95, o) },
    { record: n.routeP99, expr: nativeQuantile(0.99, o) },
  ];
  return { groups: [{ name: NATIVE_RECORDING_GROUP, rules }] };
}
