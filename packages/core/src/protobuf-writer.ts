import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from './exemplars.js';
import type { ExponentialSnapshot } from './exponential-histogram.js';
import { FamilyWalk } from './family-walk.js';
import type { HistogramPoint } from './histogram.js';
import { labelPairs } from './label-pairs.js';
import { ProtoEncoder } from './protobuf-encoder.js';
import { familiesOf, type Family } from './serializer.js';

/**
 * The Prometheus protobuf exposition (`io.prometheus.client.MetricFamily`, length-delimited): the families of the text
 * writers, histograms with their classic buckets (exemplars included) and, when kept, the native buckets in the same
 * Histogram message, as client_golang writes them. Field numbers are those of client_model's metrics.proto.
 */

/** MetricType values */
const COUNTER = 0;
const GAUGE = 1;
const HISTOGRAM = 4;

/** Zero buckets allowed inside one span before a new span starts (client_golang's rule: cheaper than a new span). */
const MAX_GAP_IN_SPAN = 2;

/** Encoded `label` fields (Metric field 1) by attributes object. */
let labelFields = new WeakMap<Attributes, Buffer>();

function labelBytes(attributes: Attributes): Buffer {
  let out = labelFields.get(attributes);
  if (out === undefined) {
    const enc = new ProtoEncoder(256);
    const pairs = labelPairs(attributes);
    for (let i = 0; i < pairs.length; i += 2) {
      enc.fork(1);
      enc.string(1, pairs[i]);
      enc.string(2, pairs[i + 1]);
      enc.join();
    }
    out = Buffer.from(enc.result());
    labelFields.set(attributes, out);
  }
  return out;
}

function writeExemplar(enc: ProtoEncoder, field: number, e: Exemplar): void {
  enc.fork(field);
  enc.fork(1);
  enc.string(1, 'trace_id');
  enc.string(2, e.traceId);
  enc.join();
  enc.fork(1);
  enc.string(1, 'span_id');
  enc.string(2, e.spanId);
  enc.join();
  enc.double(2, e.value);
  enc.fork(3); // google.protobuf.Timestamp
  const seconds = Math.floor(e.timestamp / 1000);
  enc.uint(1, seconds);
  enc.uint(2, Math.round((e.timestamp - seconds * 1000) * 1e6));
  enc.join();
  enc.join();
}

/** Native buckets: spans over runs of buckets (short gaps kept inside a span), counts as deltas to the previous one. */
function writeNative(enc: ProtoEncoder, n: ExponentialSnapshot): void {
  enc.sint(5, n.scale);
  enc.double(6, n.zeroThreshold);
  enc.uint(7, n.zeroCount);
  const counts = n.counts;
  // Prometheus' bucket i holds (base^(i-1), base^i]: OpenTelemetry's index + 1
  const first = n.offset + 1;
  let i = 0;
  let previousEnd = 0; // Prometheus index after the last span written
  let spans = 0;
  const runs: number[] = []; // [start, length] of each span, in array positions
  while (i < counts.length) {
    while (i < counts.length && counts[i] === 0) i++;
    if (i >= counts.length) break;
    const start = i;
    let end = i + 1; // exclusive, after the last non-zero bucket
    let j = end;
    while (j < counts.length) {
      if (counts[j] !== 0) end = ++j;
      else if (j - end >= MAX_GAP_IN_SPAN) break;
      else j++;
    }
    runs.push(start, end - start);
    i = end;
  }
  for (let r = 0; r < runs.length; r += 2) {
    const start = first + runs[r];
    enc.fork(12);
    enc.sint(1, spans === 0 ? start : start - previousEnd);
    enc.uint(2, runs[r + 1]);
    enc.join();
    previousEnd = start + runs[r + 1];
    spans++;
  }
  let previous = 0;
  for (let r = 0; r < runs.length; r += 2) {
    for (let k = runs[r]; k < runs[r] + runs[r + 1]; k++) {
      enc.sint(13, counts[k] - previous);
      previous = counts[k];
    }
  }
}

/** Index of the most recent exemplar (-1: none). */
function newest(exemplars: (Exemplar | undefined)[]): number {
  let at = -1;
  for (let i = 0; i < exemplars.length; i++) {
    const e = exemplars[i];
    if (e !== undefined && (at < 0 || e.timestamp >= (exemplars[at] as Exemplar).timestamp)) at = i;
  }
  return at;
}

function writeHistogram(enc: ProtoEncoder, h: HistogramPoint): void {
  enc.fork(7);
  enc.uint(1, h.count);
  enc.double(2, h.sum ?? 0);
  const counts = h.buckets.counts;
  const bounds = h.buckets.boundaries;
  const exemplars = h.exemplars;
  // Prometheus 2.40-2.4x takes one exemplar per native histogram and scrape, the first bucket's: with native buckets,
  // only the newest goes on its bucket (the others would hide it), all of them in the native `exemplars` field
  const only = h.native !== undefined && exemplars !== undefined ? newest(exemplars) : -1;
  let cumulative = 0;
  for (let b = 0; b < counts.length; b++) {
    cumulative += counts[b];
    enc.fork(3);
    enc.uint(1, cumulative);
    enc.double(2, b < bounds.length ? bounds[b] : Infinity);
    const e = exemplars === undefined || (only >= 0 && b !== only) ? undefined : exemplars[b];
    if (e !== undefined) writeExemplar(enc, 3, e);
    enc.join();
  }
  if (h.native !== undefined) {
    writeNative(enc, h.native);
    if (exemplars !== undefined) {
      const byTime = exemplars.filter((e) => e !== undefined).sort((a, b) => a.timestamp - b.timestamp);
      for (const e of byTime) writeExemplar(enc, 16, e);
    }
  }
  enc.join();
}

function writeMetric(enc: ProtoEncoder, kind: Family['kind'], p: DataPoint<unknown>): void {
  enc.fork(4);
  enc.bytes(labelBytes(p.attributes));
  if (kind === 'histogram') writeHistogram(enc, p.value as HistogramPoint);
  else {
    enc.fork(kind === 'counter' ? 3 : 2);
    enc.double(1, p.value as number);
    enc.join();
  }
  enc.join();
}

/** Writes the protobuf exposition of one collection, resumably (see `FamilyWalk`). */
export class ProtobufWriter extends FamilyWalk {
  private readonly enc: ProtoEncoder;

  constructor(resourceMetrics: ResourceMetrics, reuse: Buffer | undefined) {
    super(familiesOf(resourceMetrics));
    this.enc = new ProtoEncoder(64 * 1024, reuse);
    const attributes = resourceMetrics.resource.attributes as Attributes;
    if (labelPairs(attributes).length > 0) {
      const enc = this.enc;
      enc.fork(0);
      enc.string(1, 'target_info');
      enc.string(2, 'Target metadata');
      enc.uint(3, GAUGE);
      writeMetric(enc, 'gauge', { attributes, value: 1 } as DataPoint<unknown>);
      enc.join();
    }
  }

  protected begin(family: Family): void {
    const enc = this.enc;
    enc.fork(0); // each MetricFamily is preceded by its length
    enc.string(1, family.name);
    enc.string(2, family.help === '' ? family.name : family.help);
    enc.uint(3, family.kind === 'counter' ? COUNTER : family.kind === 'gauge' ? GAUGE : HISTOGRAM);
  }

  protected scalar(family: Family, point: DataPoint<number>): void {
    writeMetric(this.enc, family.kind, point);
  }

  protected histogram(family: Family, point: DataPoint<HistogramPoint>): void {
    writeMetric(this.enc, family.kind, point);
  }

  protected override end(): void {
    this.enc.join();
  }

  result(): { bytes: Buffer; backing: Buffer } {
    return { bytes: this.enc.result(), backing: this.enc.buf };
  }
}

/** Drop cached label bytes (tests). */
export function resetProtobufCache(): void {
  labelFields = new WeakMap();
}
