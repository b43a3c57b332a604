export {
  configure,
  getMeterline,
  resetMeterline,
  meterlineProducer,
  Meterline,
  runtimeFromOptions,
  type MeterlineOptions,
} from './runtime.js';
export { PullReader } from './pull-reader.js';
export {
  createMetricsHandler,
  startMetricsServer,
  type MetricsAuth,
  type MetricsHandlerOptions,
  type MetricsRequestHandler,
  type MetricsServer,
  type MetricsServerOptions,
} from './handler.js';
export { AdapterCore, COMMON_OPTION_KEYS, type CommonOptions } from './adapter.js';
export { RequestRecorder, RequestState, stateOf, errorTypeOf, reservedUrl } from './recorder.js';
export { HttpStore, RouteKey, Series, METHOD_NAMES } from './store.js';
export { serialize, serializeToBuffer } from './serializer.js';
export { AttributeGuard, type AttributesCallback } from './attributes.js';
export { prometheusName, labelName } from './naming.js';
export { reportOnce, setErrorHook, type ErrorHook } from './report.js';
export {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_SIZE_BUCKETS,
  DEFAULT_CONNECTION_DURATION_BUCKETS,
  ROUTE_OVERFLOW,
  ERROR_ABORTED,
  PROMETHEUS_CONTENT_TYPE,
} from './constants.js';
export {
  Pushgateway,
  PushError,
  pushMetrics,
  groupingPath,
  selectMetrics,
  type PushgatewayOptions,
  type PushOptions,
  type PushResult,
  type PushTarget,
  type MetricSelection,
} from './push.js';
export { runJob, BATCH_JOB_METRICS, JOBS_SCOPE, type JobContext, type RunJobOptions } from './jobs.js';
export {
  offlineWorker,
  OfflineWorker,
  OFFLINE_WORKER_METRICS,
  OFFLINE_DURATION_BUCKETS,
  type OfflineWorkerOptions,
  type WorkerContext,
  type BatchContext,
} from './offline.js';
