import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

// The public option and result types of @meterline/core, each option with its default.
// Defaults are applied in one place: options.ts.

/** Called once per distinct fault inside meterline (never per request). */
export type ErrorHook = (error: unknown, where: string) => void;

/** Options of the process-wide runtime (shared by every adapter and the Prometheus handler). */
export interface MeterlineOptions {
  /**
   * Your own MeterProvider (default: one created by meterline). Give `reader` with it: the reader bound to this
   * provider is what the Prometheus handler collects from.
   */
  meterProvider?: MeterProvider;
  /**
   * The reader the handler collects from (default: a `PullReader` meterline creates). Add `meterlineProducer` to
   * its `metricProducers`, or meterline merges its data in itself.
   */
  reader?: MetricReader;
  /** `service.name` of the resource meterline creates (default: `OTEL_SERVICE_NAME`, else the SDK default). */
  serviceName?: string;
  /** Set meterline's MeterProvider as the global one for `@opentelemetry/api` (default `true`). */
  registerGlobal?: boolean;
  /** Buckets of `http.server.request.duration`, seconds (default: the semantic-convention advice, 5 ms to 10 s). */
  durationBuckets?: number[];
  /** Buckets of `http.server.request.body.size`, bytes (default: powers of 4 from 0 to 64 MiB). */
  requestSizeBuckets?: number[];
  /** Buckets of `http.server.response.body.size`, bytes (default: powers of 4 from 0 to 64 MiB). */
  responseSizeBuckets?: number[];
  /** Buckets of `network.server.connection.duration`, seconds (default: 10 ms to 5 min). */
  connectionDurationBuckets?: number[];
  /** Cap on distinct `http.route` values; beyond it, routes fold into `__overflow__` (default 1000). */
  maxRoutes?: number;
  /** Cap on distinct `error.type` values; beyond it, `_OTHER` (default 100). */
  maxErrorTypes?: number;
  /** Receives internal faults, once each (default: the OpenTelemetry diag logger and one process warning). */
  onError?: ErrorHook;
  /**
   * Export meterline's own metrics: `meterline_scrapes_total{result}`, scrape and collection duration,
   * `meterline_internal_faults_total{component}`, push attempts and failures (default `true`). Counted per scrape,
   * collection or push, never per request.
   */
  selfMetrics?: boolean;
  /**
   * Also push every metric (HTTP, network, jobs, your own instruments) to an OTLP/HTTP endpoint on an interval:
   * its URL, or options (default: off). Needs the optional peer dependency
   * `@opentelemetry/exporter-metrics-otlp-http` (or `-proto` for `protocol: 'http/protobuf'`) of the line of your
   * sdk-metrics (0.2xx for 2.x, 0.30x for 3.x). Only with meterline's own MeterProvider.
   */
  otlp?: string | OtlpOptions;
  /**
   * Keep Prometheus native histograms (OpenTelemetry exponential histograms) beside the classic buckets of
   * `http.server.request.duration` and the body-size histograms, served when the scraper asks for the protobuf format
   * (Prometheus with `--enable-feature=native-histograms`). `true`: start at scale 8 and keep at most 160 buckets,
   * halving the resolution whenever more would be needed; or give `{ scale, maxBuckets }` (default `false`: none).
   */
  nativeHistograms?: boolean | NativeHistogramOptions;
  /**
   * Names of the request metrics on /metrics (default `'otel'`: `http_server_request_duration_seconds` and the other
   * OpenTelemetry semantic-convention names). `'classic'`: the names prom-client-era dashboards query
   * (`http_request_duration_seconds{method,route,status_code}`, `http_requests_total`, `http_requests_in_flight`,
   * `http_request_size_bytes`, `http_response_size_bytes`), a different view of the same aggregates computed at
   * collection time (nothing more per request). See docs/migrate-from-*.md.
   */
  naming?: 'otel' | 'classic';
  /**
   * Label names of the classic metrics (`naming: 'classic'`), e.g. `{ route: 'path' }` for express-prom-bundle's
   * dashboards (default `{ method: 'method', route: 'route', status: 'status_code' }`).
   */
  classicLabels?: ClassicLabels;
  /**
   * Registries of prom-client or `@prometheus-io/client` (the default `register` or your own) served on the same
   * /metrics after meterline's metrics (default: none). Duck-typed: `metrics()` (text) or `getMetricsAsJSON()`.
   * A family whose name is also meterline's fails at startup when the registry already holds it, otherwise it is
   * reported once and dropped from the output.
   */
  registries?: PrometheusRegistry[];
  /**
   * Record `http.server.request.time_to_first_byte` (seconds from the request's start to its response head being
   * written; same attributes and buckets as the duration): the latency of streamed responses (server-sent events,
   * long polls, large downloads) whose duration is the length of the stream. One clock read per request when on
   * (default `false`).
   */
  timeToFirstByte?: boolean;
}

/** Options of the OTLP push beside Prometheus. Data is sent with cumulative temporality. */
export interface OtlpOptions {
  /** Endpoint (default: the exporter's, i.e. `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or http://localhost:4318/v1/metrics). */
  url?: string;
  /** Extra request headers, e.g. an API key (default: none). */
  headers?: Record<string, string>;
  /** Export interval, ms (default 60000). */
  intervalMs?: number;
  /** Timeout of one export, ms, at most `intervalMs` (default 10000). */
  timeoutMs?: number;
  /** `'http/json'` (default, `@opentelemetry/exporter-metrics-otlp-http`) or `'http/protobuf'` (`-proto`). */
  protocol?: 'http/json' | 'http/protobuf';
}

/** Resolution of the native histograms (the `nativeHistograms` option). */
export interface NativeHistogramOptions {
  /** Starting scale (Prometheus schema), -4 to 8: buckets grow by 2^(2^-scale) (default 8). */
  scale?: number;
  /** Most buckets per histogram; past it the scale goes down by one, merging pairs of buckets (default 160). */
  maxBuckets?: number;
}

/** Label names of the classic request metrics (`naming: 'classic'`). */
export interface ClassicLabels {
  /** default `'method'` */
  method?: string;
  /** default `'route'` (express-prom-bundle: `'path'`) */
  route?: string;
  /** default `'status_code'` */
  status?: string;
}

/** What meterline needs of a prom-client (or `@prometheus-io/client`) `Registry`. */
export interface PrometheusRegistry {
  /** The registry's exposition, Prometheus text format 0.0.4. */
  metrics?: () => string | Promise<string>;
  /** prom-client's JSON form, used when `metrics()` is missing. */
  getMetricsAsJSON?: () => unknown[] | Promise<unknown[]>;
  /** prom-client: its metrics, read once at startup to find name clashes early. */
  getMetricsAsArray?: () => Array<{ name: string }>;
  /** prom-client: the format `metrics()` writes (OpenMetrics registries are refused). */
  contentType?: string;
}

/** Who may scrape. Unauthorised scrapes get 401 and no metric data. */
export interface MetricsAuth {
  /** Require `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Require HTTP basic auth with these credentials. */
  basic?: { username: string; password: string };
  /** Your own check; return true to allow. */
  check?: (req: IncomingMessage) => boolean | Promise<boolean>;
}

/** Options of the shared Prometheus handler. */
export interface MetricsHandlerOptions {
  /** Protect the endpoint: bearer token, basic auth or your own check (default: open). */
  auth?: MetricsAuth;
  /** Answer 500 if collection takes longer than this, ms (default 10000). */
  timeoutMs?: number;
  /** Scrapes served at once; more get 503 (default 4). */
  maxConcurrentScrapes?: number;
  /** Compress when the client accepts gzip (default `true`). */
  gzip?: boolean;
}

/** Options of the separate metrics server. */
export interface MetricsServerOptions extends MetricsHandlerOptions {
  /** Port to listen on, 0 for any free port (default 9464). */
  port?: number;
  /** Address to bind (default `127.0.0.1`: exposing metrics beyond the host is a deliberate choice). */
  host?: string;
  /** Path of the metrics endpoint (default `/metrics`). */
  path?: string;
}

export interface MetricsServer {
  server: Server;
  port: number;
  host: string;
  url: string;
  close(): Promise<void>;
}

/** A plain Node `(req, res)` handler. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Your own low-cardinality attributes for the request metrics, computed when a request ends. */
export type AttributesCallback = (
  req: IncomingMessage,
  res: ServerResponse,
) => Record<string, string | number | boolean> | undefined;

/** Options every middleware accepts (the runtime options only on the first one created). */
export interface CommonOptions extends MeterlineOptions, MetricsHandlerOptions {
  /**
   * Path at which the app serves the Prometheus metrics (default `/metrics`); `false` to serve nothing on the
   * app (e.g. when `startMetricsServer()` serves them on their own port). Requests to it are not measured.
   */
  path?: string | false;
  /**
   * Your own low-cardinality attributes for the request metrics, computed when each request ends, e.g.
   * `(req) => ({ tenant_tier: tierOf(req) })` (default: none). At most `maxAttributeValues` distinct values per
   * key (more fold into `__overflow__`); a callback that throws or returns junk is reported once and ignored.
   */
  attributes?: AttributesCallback;
  /** Distinct values per user attribute key (default 100). */
  maxAttributeValues?: number;
  /**
   * Serve a live page at this path, e.g. `'/metrics/ui'`: per-route request rate, error ratio and latency
   * percentiles of the last minutes, with charts, from history sampled from the in-process aggregates every 5 s
   * (its data at `<page>/data`). Protected by the same `auth` as the metrics path. Sampling starts when the page
   * is first requested and stops after 10 minutes without a request for it; nothing is added per request
   * (default `false`: no page).
   */
  page?: string | false;
  /**
   * Routes not to record: route templates (`'/health'`) or regular expressions tested against the template;
   * for unmatched requests, against the path (default: none).
   */
  exclude?: Array<string | RegExp>;
}
