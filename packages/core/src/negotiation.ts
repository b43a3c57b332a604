import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { PROMETHEUS_CONTENT_TYPE } from './constants.js';
import { OpenMetricsWriter } from './openmetrics-writer.js';
import { ProtobufWriter } from './protobuf-writer.js';
import { ExpositionWriter } from './serializer.js';

/**
 * Content negotiation of the shared handler on the scraper's `Accept` header, as Prometheus and client_golang do it:
 * the highest-weighted format we can write wins (the header's order breaks ties); without a header, or with nothing
 * we know, the 0.0.4 text format.
 */

/** A writer of one exposition format, written in steps (see `writeInSteps`). */
export interface StepWriter {
  write(deadline: number): boolean;
  result(): { bytes: Buffer; backing: Buffer };
}

export interface ExpositionFormat {
  readonly name: 'text' | 'openmetrics' | 'protobuf';
  readonly contentType: string;
  writer(collected: ResourceMetrics, reuse: Buffer | undefined): StepWriter;
}

export const TEXT_FORMAT: ExpositionFormat = Object.freeze({
  name: 'text',
  contentType: PROMETHEUS_CONTENT_TYPE,
  writer: (collected: ResourceMetrics, reuse: Buffer | undefined) =>
    new ExpositionWriter(collected, {}, reuse),
});

const openMetrics = (version: string): ExpositionFormat =>
  Object.freeze({
    name: 'openmetrics',
    contentType: `application/openmetrics-text; version=${version}; charset=utf-8`,
    writer: (collected: ResourceMetrics, reuse: Buffer | undefined) =>
      new OpenMetricsWriter(collected, reuse),
  });

export const OPENMETRICS_FORMAT = openMetrics('1.0.0');
const OPENMETRICS_0_0_1 = openMetrics('0.0.1');

export const PROTOBUF_FORMAT: ExpositionFormat = Object.freeze({
  name: 'protobuf',
  contentType: 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
  writer: (collected: ResourceMetrics, reuse: Buffer | undefined) => new ProtobufWriter(collected, reuse),
});

/** The format one media range of the header names, or undefined if it is none we write. */
function formatOf(type: string, params: Map<string, string>): ExpositionFormat | undefined {
  switch (type) {
    case 'application/vnd.google.protobuf':
      return params.get('proto') === 'io.prometheus.client.MetricFamily' &&
        params.get('encoding') === 'delimited'
        ? PROTOBUF_FORMAT
        : undefined;
    case 'application/openmetrics-text': {
      const version = params.get('version');
      if (version === undefined || version === '1.0.0') return OPENMETRICS_FORMAT;
      return version === '0.0.1' ? OPENMETRICS_0_0_1 : undefined;
    }
    case 'text/plain': {
      const version = params.get('version');
      return version === undefined || version === '0.0.4' ? TEXT_FORMAT : undefined;
    }
    case '*/*':
    case 'text/*':
      return TEXT_FORMAT;
    default:
      return undefined;
  }
}

/** Memo of the last header seen: a Prometheus server sends the same header on every scrape. */
let lastHeader: string | undefined;
let lastFormat: ExpositionFormat = TEXT_FORMAT;

/** The format to answer a request whose `Accept` header is `accept`. */
export function negotiate(accept: string | string[] | undefined): ExpositionFormat {
  if (Array.isArray(accept)) accept = accept.join(',');
  if (accept === undefined || accept === '') return TEXT_FORMAT;
  if (accept === lastHeader) return lastFormat;
  let best: ExpositionFormat | undefined;
  let bestQ = 0;
  for (const range of accept.split(',')) {
    const parts = range.split(';');
    const type = parts[0].trim().toLowerCase();
    const params = new Map<string, string>();
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const eq = parts[i].indexOf('=');
      if (eq < 0) continue;
      const key = parts[i].slice(0, eq).trim().toLowerCase();
      const value = parts[i]
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (key === 'q') q = Number(value);
      else params.set(key, value);
    }
    if (!(q > 0)) continue;
    const format = formatOf(type, params);
    if (format !== undefined && q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  lastHeader = accept;
  lastFormat = best ?? TEXT_FORMAT;
  return lastFormat;
}
