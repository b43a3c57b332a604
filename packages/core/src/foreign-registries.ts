import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DataPointType } from './otel-enums.js';
import { CLASSIC_FAMILY_NAMES } from './classic-names.js';
import { HTTP_METRICS } from './http-metrics.js';
import { prometheusName } from './naming.js';
import { reportOnce } from './report.js';
import type { PrometheusRegistry } from './types.js';
import { fail } from './validate.js';

// One /metrics for everything: the app's prom-client (or @prometheus-io/client) registries are served after
// meterline's own metrics, as the text they write (their counters, summaries and untyped metrics keep their exact
// names and types). A family is written once: one whose name (or one of whose sample names) meterline or an earlier
// registry already writes is dropped, and reported once.

type Kind = 'counter' | 'gauge' | 'histogram';

function kindOf(metric: MetricData): Kind | undefined {
  if (metric.dataPointType === DataPointType.HISTOGRAM) return 'histogram';
  if (metric.dataPointType === DataPointType.SUM) return metric.isMonotonic ? 'counter' : 'gauge';
  if (metric.dataPointType === DataPointType.GAUGE) return 'gauge';
  return undefined;
}

/** Every family and sample name a family of this kind writes (as our serialiser names them). */
function addNames(names: Set<string>, base: string, kind: Kind): void {
  if (kind === 'counter') names.add(base + '_total');
  else names.add(base);
  if (kind === 'histogram') {
    names.add(base + '_bucket');
    names.add(base + '_sum');
    names.add(base + '_count');
  }
}

/** The family and sample names in meterline's part of the exposition. */
export function exposedNames(collected: ResourceMetrics): Set<string> {
  const names = new Set<string>(['target_info']);
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      const kind = kindOf(metric);
      if (kind === undefined || metric.dataPoints.length === 0) continue;
      addNames(names, prometheusName(metric.descriptor.name, metric.descriptor.unit, kind), kind);
    }
  }
  return names;
}

/** The names meterline's own HTTP metrics are served under, known before anything is recorded. */
export function reservedNames(classic: boolean): Set<string> {
  const names = new Set<string>(['target_info']);
  const histograms = [HTTP_METRICS.duration, HTTP_METRICS.requestSize, HTTP_METRICS.responseSize];
  histograms.push(HTTP_METRICS.connectionDuration, HTTP_METRICS.timeToFirstByte);
  for (const d of histograms) addNames(names, prometheusName(d.name, d.unit, 'histogram'), 'histogram');
  for (const d of [HTTP_METRICS.activeRequests, HTTP_METRICS.activeConnections]) {
    addNames(names, prometheusName(d.name, d.unit, 'gauge'), 'gauge');
  }
  for (const d of [HTTP_METRICS.networkIo, HTTP_METRICS.upgrades, HTTP_METRICS.cardinalityOverflow]) {
    addNames(names, prometheusName(d.name, d.unit, 'counter'), 'counter');
  }
  if (classic) {
    for (const n of CLASSIC_FAMILY_NAMES) {
      if (n.endsWith('_total')) names.add(n);
      else if (n === 'http_requests_in_flight') names.add(n);
      else addNames(names, n, 'histogram');
    }
  }
  return names;
}

/** One family of a registry's text: its name, the names of its samples, its lines. */
interface TextFamily {
  name: string;
  samples: Set<string>;
  lines: string[];
}

function sampleName(line: string): string {
  const end = line.search(/[{ ]/);
  return end === -1 ? line : line.slice(0, end);
}

/** Split an exposition into families (a family starts at a HELP or TYPE line of a new name). */
export function splitFamilies(text: string): TextFamily[] {
  const out: TextFamily[] = [];
  let current: TextFamily | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const name = line.slice(7).split(' ', 1)[0];
      if (current === undefined || current.name !== name) {
        current = { name, samples: new Set(), lines: [] };
        out.push(current);
      }
      current.lines.push(line);
    } else if (line.startsWith('#')) {
      if (current !== undefined) current.lines.push(line);
    } else {
      const name = sampleName(line);
      if (current === undefined || !belongsTo(name, current.name)) {
        current = { name, samples: new Set(), lines: [] };
        out.push(current);
      }
      current.samples.add(name);
      current.lines.push(line);
    }
  }
  return out;
}

function belongsTo(sample: string, family: string): boolean {
  if (sample === family) return true;
  if (!sample.startsWith(family)) return false;
  const suffix = sample.slice(family.length);
  return (
    suffix === '_bucket' ||
    suffix === '_sum' ||
    suffix === '_count' ||
    suffix === '_total' ||
    suffix === '_created'
  );
}

interface JsonMetric {
  name: string;
  help?: string;
  type?: string;
  values?: Array<{ value: number; labels?: Record<string, string | number>; metricName?: string }>;
}

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatNumber = (v: number): string =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

/** prom-client's `getMetricsAsJSON()` form as exposition text (for registries without `metrics()`). */
export function textFromJson(metrics: unknown[]): string {
  let out = '';
  for (const m of metrics as JsonMetric[]) {
    if (m === null || typeof m !== 'object' || typeof m.name !== 'string') continue;
    const help = (m.help ?? m.name).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    out += `# HELP ${m.name} ${help}\n# TYPE ${m.name} ${m.type ?? 'untyped'}\n`;
    for (const v of m.values ?? []) {
      const labels = Object.entries(v.labels ?? {})
        .map(([k, val]) => `${k}="${escapeLabel(typeof val === 'number' ? formatNumber(val) : String(val))}"`)
        .join(',');
      out += `${v.metricName ?? m.name}${labels === '' ? '' : '{' + labels + '}'} ${formatNumber(v.value)}\n`;
    }
  }
  return out;
}

/** The `registries` option, checked; clashes with meterline's own names among registered metrics fail here. */
export function checkRegistries(
  where: string,
  registries: unknown,
  classic: boolean,
): readonly PrometheusRegistry[] | undefined {
  if (registries === undefined) return undefined;
  if (!Array.isArray(registries)) {
    fail(where, 'registries', registries, 'expected an array of prom-client registries, e.g. [register]');
  }
  const reserved = reservedNames(classic);
  const seen = new Map<string, number>();
  registries.forEach((r: PrometheusRegistry, i) => {
    const name = `registries[${i}]`;
    if (r === null || typeof r !== 'object') fail(where, name, r, 'expected a prom-client Registry');
    if (typeof r.metrics !== 'function' && typeof r.getMetricsAsJSON !== 'function') {
      fail(where, name, r, 'expected a prom-client Registry (with metrics() or getMetricsAsJSON())');
    }
    if (typeof r.contentType === 'string' && r.contentType.includes('openmetrics')) {
      fail(
        where,
        name,
        r,
        'is an OpenMetrics registry; give a registry of the Prometheus text format (new Registry() without a content type)',
      );
    }
    if (registries.indexOf(r) !== i) fail(where, name, r, `is registries[${registries.indexOf(r)}] again`);
    if (typeof r.getMetricsAsArray !== 'function') return;
    for (const metric of r.getMetricsAsArray()) {
      const metricName = (metric as { name?: unknown }).name;
      if (typeof metricName !== 'string') continue;
      const clash = [metricName, metricName + '_total', metricName + '_count', metricName + '_bucket'].find(
        (n) => reserved.has(n),
      );
      if (clash !== undefined) {
        fail(
          where,
          name,
          r,
          `its metric "${metricName}" clashes with meterline's "${clash}"` +
            (classic ? " (naming: 'classic')" : '') +
            '; remove it from the registry (e.g. the middleware that registered it) or rename it',
        );
      }
      const earlier = seen.get(metricName);
      if (earlier !== undefined) {
        fail(
          where,
          name,
          r,
          `its metric "${metricName}" is also in registries[${earlier}]; serve it from one only`,
        );
      }
      seen.set(metricName, i);
    }
  });
  return Object.freeze([...registries]);
}

/**
 * The registries' part of the exposition: each registry's families in its order, minus those whose names are taken
 * (`taken`: meterline's names, grows with each family written). A registry that fails is reported once and skipped.
 */
export async function foreignExposition(
  registries: readonly PrometheusRegistry[],
  taken: Set<string>,
): Promise<string> {
  const texts = await Promise.all(
    registries.map(async (r, i) => {
      try {
        if (typeof r.metrics === 'function') return String(await r.metrics());
        return textFromJson((await (r.getMetricsAsJSON as () => unknown[] | Promise<unknown[]>)()) ?? []);
      } catch (err) {
        reportOnce(`reading registries[${i}]`, err);
        return '';
      }
    }),
  );
  let out = '';
  texts.forEach((text, i) => {
    for (const family of splitFamilies(text)) {
      const names = [family.name, ...family.samples];
      const clash = names.find((n) => taken.has(n));
      if (clash !== undefined) {
        reportOnce(
          `serving registries[${i}] family ${family.name}`,
          new Error(
            `metric ${family.name} of registries[${i}] has the name ${clash}, which meterline or an earlier registry ` +
              'already serves: dropped from /metrics; rename it or remove it from the registry',
          ),
        );
        continue;
      }
      for (const n of names) taken.add(n);
      out += family.lines.join('\n') + '\n';
    }
  });
  return out;
}
