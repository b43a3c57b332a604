import {
  DEFAULT_CONNECTION_DURATION_BUCKETS,
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_SIZE_BUCKETS,
} from './http-metrics.js';
import type {
  CommonOptions,
  MeterlineOptions,
  MetricsHandlerOptions,
  MetricsServerOptions,
} from './types.js';

// Every option's default, and the option names each entry point accepts, derived from the public types
// (a `Record<keyof T, true>` argument: the compiler rejects a list that misses or invents a key).

export const DEFAULTS = Object.freeze({
  registerGlobal: true,
  selfMetrics: true,
  durationBuckets: DEFAULT_DURATION_BUCKETS,
  requestSizeBuckets: DEFAULT_SIZE_BUCKETS,
  responseSizeBuckets: DEFAULT_SIZE_BUCKETS,
  connectionDurationBuckets: DEFAULT_CONNECTION_DURATION_BUCKETS,
  maxRoutes: 1000,
  maxErrorTypes: 100,
  timeoutMs: 10_000,
  maxConcurrentScrapes: 4,
  gzip: true,
  path: '/metrics',
  page: false,
  maxAttributeValues: 100,
  port: 9464,
  host: '127.0.0.1',
  nativeHistograms: false,
});

const keys = <T>(names: Record<keyof T, true>): readonly (keyof T & string)[] =>
  Object.freeze(Object.keys(names)) as (keyof T & string)[];

export const RUNTIME_OPTION_KEYS = keys<MeterlineOptions>({
  meterProvider: true,
  reader: true,
  serviceName: true,
  registerGlobal: true,
  durationBuckets: true,
  requestSizeBuckets: true,
  responseSizeBuckets: true,
  connectionDurationBuckets: true,
  maxRoutes: true,
  maxErrorTypes: true,
  onError: true,
  naming: true,
  classicLabels: true,
  registries: true,
  timeToFirstByte: true,
  selfMetrics: true,
  otlp: true,
  nativeHistograms: true,
});

export const HANDLER_OPTION_KEYS = keys<MetricsHandlerOptions>({
  auth: true,
  timeoutMs: true,
  maxConcurrentScrapes: true,
  gzip: true,
});

export const SERVER_OPTION_KEYS: readonly (keyof MetricsServerOptions & string)[] = Object.freeze([
  ...HANDLER_OPTION_KEYS,
  ...keys<Omit<MetricsServerOptions, keyof MetricsHandlerOptions>>({ port: true, host: true, path: true }),
]);

type MiddlewareOnly = Omit<CommonOptions, keyof MeterlineOptions | keyof MetricsHandlerOptions>;

export const COMMON_OPTION_KEYS: readonly (keyof CommonOptions & string)[] = Object.freeze([
  ...RUNTIME_OPTION_KEYS,
  ...HANDLER_OPTION_KEYS,
  ...keys<MiddlewareOnly>({
    path: true,
    attributes: true,
    maxAttributeValues: true,
    exclude: true,
    page: true,
  }),
]);

/** The entries of `options` whose names are in `names` and whose values are set. */
export function pick<T extends object>(options: object, names: readonly (keyof T & string)[]): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) out[name] = value;
  }
  return out as Partial<T>;
}
