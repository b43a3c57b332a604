import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type {
  CollectionResult,
  MeterProvider,
  MetricProducer,
  MetricReader,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { fromWire } from './aggregate.js';
import { ClusterWorkerLink } from './cluster.js';
import { otelApi } from './otel-api.js';
import { attachThreads, ThreadTotals, type ThreadReporter } from './threads.js';
import { otlpReader, validateOtlp } from './otlp.js';
import { DEFAULTS, pick, RUNTIME_OPTION_KEYS } from './options.js';
import { nativeSettings } from './native-options.js';
import { classicNaming } from './classic-names.js';
import { checkRegistries, exposedNames, foreignExposition, reservedNames } from './foreign-registries.js';
import { coexistenceViews, withoutDuplicateServerDuration } from './otel-coexistence.js';
import { sdkMetrics, sdkResources } from './otel-sdk.js';
import { PullReader } from './pull-reader.js';
import { RequestRecorder } from './recorder.js';
import { reportOnce, setErrorHook } from './report.js';
import { serialize, serializeToBuffer } from './serializer.js';
import { HttpStore } from './store.js';
import type { MeterlineOptions, PrometheusRegistry } from './types.js';
import {
  checkBoolean,
  checkBuckets,
  checkFunction,
  checkInteger,
  checkKnown,
  checkObject,
  checkString,
  fail,
} from './validate.js';

export const MESSAGE_PREFIX = 'meterline';

const kRuntime = Symbol.for('meterline.runtime');
type Global = { [kRuntime]?: Meterline };

/** The process-wide runtime: one MeterProvider, one reader, one store of HTTP aggregates. */
export class Meterline {
  readonly store: HttpStore;
  readonly recorder: RequestRecorder;
  readonly meterProvider: MeterProvider;
  readonly reader: MetricReader;
  readonly options: Readonly<MeterlineOptions>;
  /** prom-client registries served on the same /metrics (the `registries` option) */
  readonly registries: readonly PrometheusRegistry[] | undefined;
  private readonly producerAttached: boolean;
  /** in a cluster worker: the primary's sum over all workers, once the primary aggregates */
  private readonly clusterLink: ClusterWorkerLink | undefined;
  /** in the main thread: the worker threads' totals; in a worker thread: the reporter of this thread's */
  private readonly threads: ThreadTotals | ThreadReporter;
  private lastResource: ResourceMetrics['resource'] | undefined;

  constructor(options: MeterlineOptions = {}) {
    const where = `${MESSAGE_PREFIX}.configure`;
    checkObject(where, 'options', options);
    checkKnown(where, options, RUNTIME_OPTION_KEYS);
    checkString(where, 'serviceName', options.serviceName);
    checkBoolean(where, 'registerGlobal', options.registerGlobal);
    checkBoolean(where, 'selfMetrics', options.selfMetrics);
    checkFunction(where, 'onError', options.onError);
    checkInteger(where, 'maxRoutes', options.maxRoutes, 1, 1_000_000);
    checkInteger(where, 'maxErrorTypes', options.maxErrorTypes, 1, 10_000);
    if ((options.meterProvider === undefined) !== (options.reader === undefined)) {
      fail(
        where,
        options.reader === undefined ? 'reader' : 'meterProvider',
        undefined,
        'meterProvider and reader go together: pass the MetricReader bound to your MeterProvider as well',
      );
    }
    if (options.reader !== undefined && typeof (options.reader as MetricReader).collect !== 'function') {
      fail(
        where,
        'reader',
        options.reader,
        'expected an OpenTelemetry MetricReader (e.g. a PeriodicExportingMetricReader)',
      );
    }
    const otlp = validateOtlp(where, options.otlp);
    if (otlp !== undefined && options.meterProvider !== undefined) {
      fail(
        where,
        'otlp',
        options.otlp,
        "works with meterline's own MeterProvider only: with yours, add a PeriodicExportingMetricReader with " +
          'an OTLP exporter and metricProducers: [meterlineProducer] to it',
      );
    }
    checkBoolean(where, 'timeToFirstByte', options.timeToFirstByte);
    if (options.naming !== undefined && options.naming !== 'otel' && options.naming !== 'classic') {
      fail(where, 'naming', options.naming, "expected 'otel' or 'classic'");
    }
    checkObject(where, 'classicLabels', options.classicLabels);
    if (options.classicLabels !== undefined && options.naming !== 'classic') {
      fail(where, 'classicLabels', options.classicLabels, "applies to naming: 'classic' only");
    }
    const classic =
      options.naming === 'classic'
        ? classicNaming(options.classicLabels, (why) =>
            fail(where, 'classicLabels', options.classicLabels, why),
          )
        : undefined;
    this.registries = checkRegistries(where, options.registries, classic !== undefined);
    this.options = options;
    if (options.onError !== undefined) setErrorHook(options.onError);
    this.store = new HttpStore({
      durationBuckets:
        checkBuckets(where, 'durationBuckets', options.durationBuckets) ?? DEFAULTS.durationBuckets,
      requestSizeBuckets:
        checkBuckets(where, 'requestSizeBuckets', options.requestSizeBuckets) ?? DEFAULTS.requestSizeBuckets,
      responseSizeBuckets:
        checkBuckets(where, 'responseSizeBuckets', options.responseSizeBuckets) ??
        DEFAULTS.responseSizeBuckets,
      connectionDurationBuckets:
        checkBuckets(where, 'connectionDurationBuckets', options.connectionDurationBuckets) ??
        DEFAULTS.connectionDurationBuckets,
      maxRoutes: options.maxRoutes ?? DEFAULTS.maxRoutes,
      maxErrorTypes: options.maxErrorTypes ?? DEFAULTS.maxErrorTypes,
      timeToFirstByte: options.timeToFirstByte === true,
      classic,
      selfMetrics: options.selfMetrics ?? DEFAULTS.selfMetrics,
      native: nativeSettings(where, options.nativeHistograms ?? DEFAULTS.nativeHistograms),
    });
    this.recorder = new RequestRecorder(this.store);
    if (options.reader !== undefined && options.meterProvider !== undefined) {
      this.reader = options.reader;
      this.meterProvider = options.meterProvider;
      const producers = (options.reader as unknown as { _metricProducers?: unknown[] })._metricProducers;
      this.producerAttached = Array.isArray(producers) && producers.includes(meterlineProducer);
    } else {
      // this runtime's own store (and self-metrics), also when it is not the process-wide runtime
      const store = this.store;
      const exporter = new PullReader({ metricProducers: [{ collect: () => store.collect() }] });
      const serviceName = options.serviceName ?? process.env.OTEL_SERVICE_NAME;
      const { defaultResource, resourceFromAttributes } = sdkResources();
      let resource =
        serviceName === undefined
          ? defaultResource()
          : defaultResource().merge(resourceFromAttributes({ 'service.name': serviceName }));
      if (otlp !== undefined && resource.attributes['service.instance.id'] === undefined) {
        // every process pushes its own cumulative streams: the backend must tell them apart
        resource = resource.merge(resourceFromAttributes({ 'service.instance.id': randomUUID() }));
      }
      const readers: MetricReader[] = [exporter];
      if (otlp !== undefined) readers.push(otlpReader(otlp));
      this.meterProvider = new (sdkMetrics().MeterProvider)({ resource, readers, views: coexistenceViews() });
      this.reader = exporter;
      this.producerAttached = true;
      if (options.registerGlobal ?? DEFAULTS.registerGlobal)
        otelApi.metrics.setGlobalMeterProvider(this.meterProvider);
    }
    this.threads = attachThreads(() => this.collectLocal());
    this.clusterLink = ClusterWorkerLink.attach(() => this.collectProcess());
  }

  /**
   * Collect everything: the SDK's instruments (yours included) and meterline's HTTP aggregates, summed over the
   * process's worker threads and, in a cluster worker whose primary called `clusterMetrics()`, over all workers.
   */
  async collect(timeoutMillis = 10_000): Promise<ResourceMetrics> {
    if (this.clusterLink?.active === true) {
      return this.clusterLink.collect(
        this.lastResource ?? (await this.collectLocal()).resource,
        timeoutMillis,
      );
    }
    return this.collectProcess(timeoutMillis);
  }

  /** This process's totals: this thread's plus its worker threads'. */
  async collectProcess(timeoutMillis = 10_000): Promise<ResourceMetrics> {
    const own = await this.collectLocal(timeoutMillis);
    if (!(this.threads instanceof ThreadTotals) || this.threads.size === 0) return own;
    return fromWire(await this.threads.sumWith(own), own.resource);
  }

  /** This thread's own totals. */
  async collectLocal(timeoutMillis = 10_000): Promise<ResourceMetrics> {
    const started = performance.now();
    const result = await this.reader.collect({ timeoutMillis });
    this.store.self.collected((performance.now() - started) / 1000);
    for (const err of result.errors) reportOnce('metric collection', err);
    this.lastResource = result.resourceMetrics.resource;
    // @opentelemetry/instrumentation-http on a provider that is not ours (ours has a View for it)
    const collected = withoutDuplicateServerDuration(result.resourceMetrics);
    if (!this.producerAttached) {
      return {
        resource: collected.resource,
        scopeMetrics: [...collected.scopeMetrics, this.store.collectScope()],
      };
    }
    return collected;
  }

  /**
   * The exposition of the `registries` option's registries, to follow meterline's own (`collected`); families whose
   * names meterline writes are left out. Empty without registries.
   */
  async foreignScrape(collected: ResourceMetrics): Promise<string> {
    if (this.registries === undefined || this.registries.length === 0) return '';
    // meterline's own names are taken even before their first sample: a family does not come and go
    const taken = exposedNames(collected);
    for (const name of reservedNames(this.store.classic !== undefined)) taken.add(name);
    return foreignExposition(this.registries, taken);
  }

  /** The Prometheus text exposition (0.0.4) of everything collected. */
  async scrape(timeoutMillis?: number): Promise<string> {
    const collected = await this.collect(timeoutMillis);
    return serialize(collected) + (await this.foreignScrape(collected));
  }

  /** The same exposition as `scrape()`, as the UTF-8 bytes the shared handler sends. */
  async scrapeBuffer(timeoutMillis?: number): Promise<Buffer> {
    const collected = await this.collect(timeoutMillis);
    const own = serializeToBuffer(collected);
    const foreign = await this.foreignScrape(collected);
    return foreign === '' ? own : Buffer.concat([own, Buffer.from(foreign, 'utf8')]);
  }

  async shutdown(): Promise<void> {
    this.clusterLink?.close();
    this.threads.close();
    await this.meterProvider.shutdown();
  }
}

/**
 * The `MetricProducer` that hands meterline's HTTP aggregates to an OpenTelemetry MetricReader. Add it to the
 * reader you pass as `reader`, or to any other reader (OTLP, ...) that should export them:
 * `new PeriodicExportingMetricReader({ exporter, metricProducers: [meterlineProducer] })`.
 */
export const meterlineProducer: MetricProducer = {
  collect(): Promise<CollectionResult> {
    return getMeterline().store.collect();
  },
};

/**
 * Configure the process-wide runtime. Call it once, before the first middleware is created, when you need
 * options that are not the defaults (buckets, your own MeterProvider, caps). Throws if already configured.
 */
export function configure(options: MeterlineOptions = {}): Meterline {
  const g = globalThis as Global;
  if (g[kRuntime] !== undefined) {
    throw new Error(
      `${MESSAGE_PREFIX}.configure: the runtime is already configured (a middleware or handler was created ` +
        'before, or configure() was called twice); call configure() once, before creating any middleware',
    );
  }
  const runtime = new Meterline(options);
  g[kRuntime] = runtime;
  return runtime;
}

/** The process-wide runtime, created with defaults on first use. */
export function getMeterline(): Meterline {
  const g = globalThis as Global;
  return g[kRuntime] ?? configure();
}

/**
 * For adapters: take the runtime options out of an adapter's options. The first middleware may carry them
 * (they configure the runtime); later ones may not, unless the runtime is not configured yet.
 */
export function runtimeFromOptions(where: string, options: object): Meterline {
  const runtimeOptions = pick<MeterlineOptions>(options, RUNTIME_OPTION_KEYS);
  const g = globalThis as Global;
  if (Object.keys(runtimeOptions).length === 0) return getMeterline();
  if (g[kRuntime] !== undefined) {
    throw new Error(
      `${where}: runtime options (${Object.keys(runtimeOptions).join(', ')}) were given but meterline is already ` +
        'configured by an earlier middleware or configure() call; give them only once, to the first middleware or to configure()',
    );
  }
  return configure(runtimeOptions);
}

/** Drop the process-wide runtime (tests only). */
export async function resetMeterline(): Promise<void> {
  const g = globalThis as Global;
  const runtime = g[kRuntime];
  g[kRuntime] = undefined;
  if (runtime !== undefined) {
    otelApi.metrics.disable();
    await runtime.shutdown().catch(() => undefined);
  }
}
