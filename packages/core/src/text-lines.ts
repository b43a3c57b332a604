import type { Attributes } from '@opentelemetry/api';
import type { DataPoint } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from './exemplars.js';
import type { HistogramPoint } from './histogram.js';
import { labelPairs } from './label-pairs.js';
import { escapeLabelValue, formatValue } from './naming.js';
import type { ByteWriter } from './serializer.js';

/**
 * The sample lines of the two text expositions (0.0.4 and OpenMetrics), with what they are made of cached per series:
 * the rendered label set, and the byte heads of histogram lines (`name_bucket{labels,le="x"} `), so that a bucket line
 * allocates nothing.
 */

/** Rendered label sets, by attributes object: the SDK and core both keep one frozen object per series. */
let labelStrings = new WeakMap<Attributes, string>();
/** Histogram line heads by attributes object and family name (see histogramHeads). */
let headBytes = new WeakMap<Attributes, Map<string, Buffer[]>>();
const leStrings = new WeakMap<readonly number[], string[]>();

/** `k1="v1",k2="v2"` (no braces), label names sanitised, colliding names merged with `;` as the spec says. */
export function renderLabels(attributes: Attributes): string {
  let out = labelStrings.get(attributes);
  if (out !== undefined) return out;
  const pairs = labelPairs(attributes);
  const rendered: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    rendered.push(pairs[i] + '="' + escapeLabelValue(pairs[i + 1]) + '"');
  }
  // joined: one flat string, where `+=` kept a tree of ~20 string pieces per cached label set for every GC to mark
  out = rendered.join(',');
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

/** The heads of a histogram's lines: one per bucket, then `_sum` and `_count`. */
export function histogramHeads(
  name: string,
  attributes: Attributes,
  boundaries: readonly number[],
): Buffer[] {
  let byName = headBytes.get(attributes);
  if (byName === undefined) {
    byName = new Map();
    headBytes.set(attributes, byName);
  }
  let heads = byName.get(name);
  if (heads === undefined || heads.length !== boundaries.length + 3) {
    const labels = renderLabels(attributes);
    const prefix = labels === '' ? name + '_bucket{' : name + '_bucket{' + labels + ',';
    const les = leLabels(boundaries);
    heads = [];
    for (let b = 0; b < les.length; b++) heads.push(Buffer.from(prefix + les[b] + '} ', 'utf8'));
    const suffix = labels === '' ? ' ' : '{' + labels + '} ';
    heads.push(Buffer.from(name + '_sum' + suffix, 'utf8'), Buffer.from(name + '_count' + suffix, 'utf8'));
    byName.set(name, heads);
  }
  return heads;
}

/** ` # {trace_id="…",span_id="…"} value timestamp` (the space before `#` included). */
export function exemplarSuffix(e: Exemplar): string {
  return (
    ' # {trace_id="' +
    escapeLabelValue(e.traceId) +
    '",span_id="' +
    escapeLabelValue(e.spanId) +
    '"} ' +
    formatValue(e.value) +
    ' ' +
    (e.timestamp / 1000).toFixed(3)
  );
}

export function writeScalar(name: string, p: DataPoint<number>, out: ByteWriter): void {
  const labels = renderLabels(p.attributes);
  out.text(labels === '' ? name + ' ' : name + '{' + labels + '} ');
  out.value(p.value);
  out.newline();
}

/** A histogram's bucket, `_sum` and `_count` lines; `exemplars` (OpenMetrics only) go on their buckets. */
export function writeHistogram(
  name: string,
  p: DataPoint<HistogramPoint>,
  exemplars: HistogramPoint['exemplars'],
  out: ByteWriter,
): void {
  const h = p.value;
  const counts = h.buckets.counts;
  const heads = histogramHeads(name, p.attributes, h.buckets.boundaries);
  let cumulative = 0;
  for (let b = 0; b < counts.length; b++) {
    cumulative += counts[b];
    out.bytes(heads[b]);
    out.value(cumulative);
    if (exemplars !== undefined) {
      const e = exemplars[b];
      if (e !== undefined) out.text(exemplarSuffix(e));
    }
    out.newline();
  }
  out.bytes(heads[counts.length]);
  out.value(h.sum ?? 0);
  out.newline();
  out.bytes(heads[counts.length + 1]);
  out.value(h.count);
  out.newline();
}

/** Drop cached label strings (tests). */
export function resetSerializerCache(): void {
  labelStrings = new WeakMap();
  headBytes = new WeakMap();
}
