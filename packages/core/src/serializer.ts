import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { escapeHelp, escapeLabelValue, formatValue, labelName, prometheusName } from './naming.js';
import { reportOnce } from './report.js';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  kind: Kind;
  help: string;
  body: string;
}

/** Rendered label sets, by attributes object: the SDK and core both keep one frozen object per series. */
let labelStrings = new WeakMap<Attributes, string>();
const leStrings = new WeakMap<readonly number[], string[]>();

function attributeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/** `k1="v1",k2="v2"` (no braces), label names sanitised, colliding names merged with `;` as the spec says. */
export function renderLabels(attributes: Attributes): string {
  let out = labelStrings.get(attributes);
  if (out !== undefined) return out;
  const keys = Object.keys(attributes);
  const names: string[] = [];
  const values: string[] = [];
  for (const key of keys) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = labelName(key);
    const value = attributeValue(v);
    const at = names.indexOf(name);
    if (at >= 0) values[at] = values[at] + ';' + value;
    else {
      names.push(name);
      values.push(value);
    }
  }
  out = '';
  for (let i = 0; i < names.length; i++) {
    out += (i === 0 ? '' : ',') + names[i] + '="' + escapeLabelValue(values[i]) + '"';
  }
  labelStrings.set(attributes, out);
  return out;
}

function leLabels(boundaries: readonly number[]): string[] {
  let out = leStrings.get(boundaries);
  if (out === undefined) {
    out = boundaries.map((b) => 'le="' + formatValue(b) + '"');
    out.push('le="+Inf"');
    leStrings.set(boundaries, out);
  }
  return out;
}

function kindOf(metric: MetricData): Kind | undefined {
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    default:
      return undefined;
  }
}

function renderScalar(name: string, points: DataPoint<number>[]): string {
  let body = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const labels = renderLabels(p.attributes);
    body += (labels === '' ? name : name + '{' + labels + '}') + ' ' + formatValue(p.value) + '\n';
  }
  return body;
}

function renderHistogram(name: string, points: DataPoint<Histogram>[]): string {
  const bucket = name + '_bucket{';
  const sumName = name + '_sum';
  const countName = name + '_count';
  let body = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const h = p.value;
    const labels = renderLabels(p.attributes);
    const prefix = labels === '' ? bucket : bucket + labels + ',';
    const les = leLabels(h.buckets.boundaries);
    const counts = h.buckets.counts;
    let cumulative = 0;
    for (let b = 0; b < counts.length; b++) {
      cumulative += counts[b];
      body += prefix + les[b] + '} ' + cumulative + '\n';
    }
    const suffix = labels === '' ? ' ' : '{' + labels + '} ';
    body += sumName + suffix + formatValue(h.sum ?? 0) + '\n' + countName + suffix + h.count + '\n';
  }
  return body;
}

/**
 * Serialise collected metrics to the Prometheus text exposition format 0.0.4 in one pass: one HELP/TYPE block
 * per family even when several meters produce the same name, unit suffixes and `_total` as OpenTelemetry's
 * Prometheus compatibility rules specify, label strings rendered once per series and reused across scrapes.
 */
export function serialize(resourceMetrics: ResourceMetrics, options: { targetInfo?: boolean } = {}): string {
  const families = new Map<string, Family>();
  const order: Family[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const kind = kindOf(metric);
      if (kind === undefined) {
        reportOnce(`serialising ${metric.descriptor.name} (exponential histograms are not supported)`, new Error('unsupported'));
        continue;
      }
      if (metric.dataPoints.length === 0) continue;
      // in the 0.0.4 text format a counter's family is named like its samples, `_total` included
      const base =
        prometheusName(metric.descriptor.name, metric.descriptor.unit, kind) + (kind === 'counter' ? '_total' : '');
      let family = families.get(base);
      if (family === undefined) {
        family = { name: base, kind, help: metric.descriptor.description, body: '' };
        families.set(base, family);
        order.push(family);
      } else if (family.kind !== kind) {
        reportOnce(
          `serialising ${metric.descriptor.name}`,
          new Error(`metric ${base} is produced as both ${family.kind} and ${kind}; the ${kind} is dropped`),
        );
        continue;
      }
      if (kind === 'histogram') family.body += renderHistogram(base, metric.dataPoints as DataPoint<Histogram>[]);
      else family.body += renderScalar(base, metric.dataPoints as DataPoint<number>[]);
    }
  }
  let out = '';
  if (options.targetInfo !== false) {
    const labels = renderLabels(resourceMetrics.resource.attributes as Attributes);
    if (labels !== '') {
      out += '# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{' + labels + '} 1\n';
    }
  }
  for (const f of order) {
    const help = f.help === '' ? f.name : escapeHelp(f.help);
    out += '# HELP ' + f.name + ' ' + help + '\n# TYPE ' + f.name + ' ' + f.kind + '\n' + f.body;
  }
  return out;
}

/** Drop cached label strings (tests). */
export function resetSerializerCache(): void {
  labelStrings = new WeakMap();
}
