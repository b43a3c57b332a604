import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type {
  AggregationTemporality as Temporality,
  InstrumentType,
  PeriodicExportingMetricReader,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { sdkMetrics } from './otel-sdk.js';
import { AggregationTemporality } from './otel-enums.js';
import { meterlineProducer } from './runtime.js';
import type { OtlpOptions } from './types.js';
import * as validate from './validate.js';

// OTLP beside Prometheus: the same metrics (HTTP, network, jobs, your own instruments) pushed on an interval by the
// official OpenTelemetry OTLP/HTTP exporter, an optional peer dependency loaded only when the `otlp` option is set.
//
// Temporality: cumulative. meterline's HTTP aggregates reach readers through a MetricProducer that always returns
// cumulative totals (it keeps no per-reader state, so it cannot hand a delta reader deltas). The SDK's own instruments
// get one storage per reader (meterline's provider has no Views), so a Prometheus reader that is never scraped holds
// no backlog of the OTLP reader's collections. Measured with 600 exports of 50 histogram points: no growth; the same
// with a View on the instrument (shared storage): +19 MB. A delta-preferring backend gets cumulative data, which every
// OTLP receiver accepts.

/** What an exporter reports for one export (the shape of `@opentelemetry/core`'s ExportResult; 1 = failed). */
interface ExportResult {
  code: number;
  error?: Error;
}

const PACKAGES = {
  'http/json': '@opentelemetry/exporter-metrics-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
} as const;

export const OTLP_DEFAULTS = Object.freeze({
  intervalMs: 60_000,
  timeoutMs: 10_000,
  protocol: 'http/json' as const,
});

const requireHere = createRequire(import.meta.url);

function majorOf(version: string | undefined): number | undefined {
  const m = /(\d+)\.(\d+)/.exec(version ?? '');
  return m === null ? undefined : Number(m[1]);
}

interface PackageJson {
  name?: string;
  version: string;
  dependencies?: Record<string, string>;
}

/**
 * The package.json of an installed package, found from its resolved entry point (the OpenTelemetry 3.x packages do
 * not export `./package.json`); undefined if the package cannot be resolved.
 */
function packageJsonOf(name: string): PackageJson | undefined {
  let dir: string;
  try {
    dir = dirname(requireHere.resolve(name));
  } catch {
    return undefined;
  }
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
      if (json.name === name) return json;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Check that the exporter package is installed and belongs to the line of the installed sdk-metrics (0.2xx for
 * sdk-metrics 2.x, 0.30x for 3.x): another line brings its own copy of sdk-metrics into the tree.
 */
export function checkExporterInstalled(where: string, pkg: string): void {
  const exporterPkg = packageJsonOf(pkg);
  if (exporterPkg === undefined) {
    validate.fail(
      where,
      'otlp',
      pkg,
      `the option needs the optional peer dependency ${pkg}: npm install ${pkg}`,
    );
  }
  const sdkVersion = packageJsonOf('@opentelemetry/sdk-metrics')?.version;
  const wanted = majorOf(exporterPkg.dependencies?.['@opentelemetry/sdk-metrics']);
  const have = majorOf(sdkVersion);
  if (wanted !== undefined && have !== undefined && wanted !== have) {
    const line = have === 2 ? '0.2xx' : have === 3 ? '0.30x' : `the line built on sdk-metrics ${have}.x`;
    validate.fail(
      where,
      'otlp',
      `${pkg}@${exporterPkg.version}`,
      `it is built on @opentelemetry/sdk-metrics ${wanted}.x but ${sdkVersion} is installed: install ${pkg} ${line} ` +
        `(npm view ${pkg} versions), so the tree keeps one copy of sdk-metrics`,
    );
  }
}

export function validateOtlp(where: string, otlp: unknown): OtlpOptions | undefined {
  if (otlp === undefined) return undefined;
  const options: OtlpOptions = typeof otlp === 'string' ? { url: otlp } : (otlp as OtlpOptions);
  validate.checkObject(where, 'otlp', options);
  validate.checkKnown(`${where} otlp`, options, ['url', 'headers', 'intervalMs', 'timeoutMs', 'protocol']);
  validate.checkString(where, 'otlp.url', options.url);
  if (options.url !== undefined && !/^https?:\/\//.test(options.url)) {
    validate.fail(
      where,
      'otlp.url',
      options.url,
      'expected an http:// or https:// URL, e.g. http://127.0.0.1:4318/v1/metrics',
    );
  }
  validate.checkObject(where, 'otlp.headers', options.headers);
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (typeof v !== 'string') validate.fail(where, `otlp.headers.${k}`, v, 'expected a string');
  }
  validate.checkInteger(where, 'otlp.intervalMs', options.intervalMs, 100, 86_400_000);
  validate.checkInteger(where, 'otlp.timeoutMs', options.timeoutMs, 1, 600_000);
  if (options.protocol !== undefined && !(options.protocol in PACKAGES)) {
    validate.fail(where, 'otlp.protocol', options.protocol, "expected 'http/json' or 'http/protobuf'");
  }
  if ((options.timeoutMs ?? OTLP_DEFAULTS.timeoutMs) > (options.intervalMs ?? OTLP_DEFAULTS.intervalMs)) {
    validate.fail(where, 'otlp.timeoutMs', options.timeoutMs, 'expected at most otlp.intervalMs');
  }
  checkExporterInstalled(where, PACKAGES[options.protocol ?? OTLP_DEFAULTS.protocol]);
  return options;
}

/** The OTLP exporter, loaded (ESM or CommonJS, as the application runs) on the first export. */
class LazyOtlpExporter implements PushMetricExporter {
  private readonly exporter: Promise<PushMetricExporter>;

  constructor(options: OtlpOptions) {
    const pkg = PACKAGES[options.protocol ?? OTLP_DEFAULTS.protocol];
    this.exporter = import(pkg).then((mod: { OTLPMetricExporter: new (o: object) => PushMetricExporter }) => {
      const config: Record<string, unknown> = {
        temporalityPreference: AggregationTemporality.CUMULATIVE,
        timeoutMillis: options.timeoutMs ?? OTLP_DEFAULTS.timeoutMs,
      };
      if (options.url !== undefined) config.url = options.url;
      if (options.headers !== undefined) config.headers = options.headers;
      return new mod.OTLPMetricExporter(config);
    });
    this.exporter.catch(() => undefined); // reported by the first export
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.exporter.then(
      (e) => e.export(metrics, resultCallback),
      (error: Error) => resultCallback({ code: 1, error }),
    );
  }

  async forceFlush(): Promise<void> {
    await (await this.exporter).forceFlush();
  }

  async shutdown(): Promise<void> {
    await (await this.exporter.catch(() => undefined))?.shutdown();
  }

  selectAggregationTemporality(_instrumentType: InstrumentType): Temporality {
    return AggregationTemporality.CUMULATIVE;
  }
}

/** The periodic reader that pushes everything to the OTLP endpoint (meterline's HTTP aggregates included). */
export function otlpReader(options: OtlpOptions): PeriodicExportingMetricReader {
  return new (sdkMetrics().PeriodicExportingMetricReader)({
    exporter: new LazyOtlpExporter(options),
    exportIntervalMillis: options.intervalMs ?? OTLP_DEFAULTS.intervalMs,
    exportTimeoutMillis: options.timeoutMs ?? OTLP_DEFAULTS.timeoutMs,
    metricProducers: [meterlineProducer],
  });
}
