// `@meterline/core`: what applications use. Adapters and other meterline packages build on `@meterline/core/adapter`.
// first: holds a tick object before anything of meterline allocates (tick-pin.ts)
import './tick-pin.js';
export { configure, getMeterline, resetMeterline, meterlineProducer, Meterline } from './runtime.js';
export { PullReader } from './pull-reader.js';
export { createMetricsHandler, startMetricsServer } from './handler.js';
export { clusterMetrics, type ClusterMetrics, type ClusterMetricsOptions } from './cluster.js';
export { instancePort } from './instance.js';
export { withMetrics, setRoute, setError, type NodeMetricsOptions } from './node.js';
export { serialize, serializeToBuffer } from './serializer.js';
export { prometheusName, labelName } from './naming.js';
export { setErrorHook } from './report.js';
export {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_SIZE_BUCKETS,
  DEFAULT_CONNECTION_DURATION_BUCKETS,
  EXPRESS_PROM_BUNDLE_BUCKETS,
  PROM_CLIENT_DEFAULT_BUCKETS,
  HTTP_METRICS,
} from './http-metrics.js';
export type { MetricDefinition } from './metric-definition.js';
export { ROUTE_OVERFLOW, ERROR_ABORTED, PROMETHEUS_CONTENT_TYPE } from './constants.js';
export type * from './types.js';
export { SELF_METRICS, SCRAPE_RESULTS, SELF_DURATION_BUCKETS, type ScrapeResult } from './self-metrics.js';
export { FAULT_COMPONENTS, type FaultComponent } from './faults.js';
