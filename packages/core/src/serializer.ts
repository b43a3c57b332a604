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
  /** sample lines, each ending in a newline */
  lines: string[];
}

/** Rendered label sets, by attributes object: the SDK and core both keep one frozen object per series. */
let labelStrings = new WeakMap<Attributes, string>();
/** Histogram line heads by attributes object and family name (see histogramHeads). */
let headStrings = new WeakMap<Attributes, Map<string, string[]>>();
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

function renderScalar(name: string, points: DataPoint<number>[], out: string[]): void {
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const labels = renderLabels(p.attributes);
    out.push((labels === '' ? name : name + '{' + labels + '}') + ' ' + formatValue(p.value) + '\n');
  }
}

/** Force V8 to store a concatenated string flat, so that copying it later is a plain memory copy. */
function flat(s: string): string {
  // ToNumber flattens a cons string in place (the result is NaN and unused)
  void ((s as unknown as number) | 0);
  return s;
}

/**
 * The constant start of every sample line of one histogram series (`name_bucket{labels,le="0.005"} `, ...,
 * `name_sum{labels} `, `name_count{labels} `), built once per series and reused by every scrape.
 */
function histogramHeads(name: string, attributes: Attributes, boundaries: readonly number[]): string[] {
  let byName = headStrings.get(attributes);
  if (byName === undefined) {
    byName = new Map();
    headStrings.set(attributes, byName);
  }
  let heads = byName.get(name);
  if (heads === undefined || heads.length !== boundaries.length + 3) {
    const labels = renderLabels(attributes);
    const prefix = labels === '' ? name + '_bucket{' : name + '_bucket{' + labels + ',';
    const les = leLabels(boundaries);
    heads = [];
    for (let b = 0; b < les.length; b++) heads.push(flat(prefix + les[b] + '} '));
    const suffix = labels === '' ? ' ' : '{' + labels + '} ';
    heads.push(flat(name + '_sum' + suffix), flat(name + '_count' + suffix));
    byName.set(name, heads);
  }
  return heads;
}

function renderHistogram(name: string, points: DataPoint<Histogram>[], out: string[]): void {
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const h = p.value;
    const counts = h.buckets.counts;
    const heads = histogramHeads(name, p.attributes, h.buckets.boundaries);
    let cumulative = 0;
    for (let b = 0; b < counts.length; b++) {
      cumulative += counts[b];
      out.push(heads[b] + cumulative + '\n');
    }
    out.push(heads[counts.length] + formatValue(h.sum ?? 0) + '\n', heads[counts.length + 1] + h.count + '\n');
  }
}

/**
 * Serialise collected metrics to the Prometheus text exposition format 0.0.4 in one pass: one HELP/TYPE block
 * per family even when several meters produce the same name, unit suffixes and `_total` as OpenTelemetry's
 * Prometheus compatibility rules specify, label strings rendered once per series and reused across scrapes, one
 * string per sample line and a single join into a flat result.
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
        family = { name: base, kind, help: metric.descriptor.description, lines: [] };
        families.set(base, family);
        order.push(family);
      } else if (family.kind !== kind) {
        reportOnce(
          `serialising ${metric.descriptor.name}`,
          new Error(`metric ${base} is produced as both ${family.kind} and ${kind}; the ${kind} is dropped`),
        );
        continue;
      }
      if (kind === 'histogram') renderHistogram(base, metric.dataPoints as DataPoint<Histogram>[], family.lines);
      else renderScalar(base, metric.dataPoints as DataPoint<number>[], family.lines);
    }
  }
  // Lines are joined once at the end: a flat string, cheap to encode. Appending them to one string instead builds
  // a rope of tens of thousands of pieces that Buffer.from/gzip must flatten first (7 ms for 10k lines).
  const out: string[] = [];
  if (options.targetInfo !== false) {
    const labels = renderLabels(resourceMetrics.resource.attributes as Attributes);
    if (labels !== '') {
      out.push('# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{' + labels + '} 1\n');
    }
  }
  for (const f of order) {
    const help = f.help === '' ? f.name : escapeHelp(f.help);
    out.push('# HELP ' + f.name + ' ' + help + '\n# TYPE ' + f.name + ' ' + f.kind + '\n');
    for (let i = 0; i < f.lines.length; i++) out.push(f.lines[i]);
  }
  return out.join('');
}

/** Drop cached label strings (tests). */
export function resetSerializerCache(): void {
  labelStrings = new WeakMap();
  headStrings = new WeakMap();
}
