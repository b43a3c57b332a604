export {
  configure,
  getMeterline,
  resetMeterline,
  meterlineProducer,
  Meterline,
  runtimeFromOptions,
  type MeterlineOptions,
} from './runtime.js';
export {
  createMetricsHandler,
  startMetricsServer,
  type MetricsAuth,
  type MetricsHandlerOptions,
  type MetricsRequestHandler,
  type MetricsServer,
  type MetricsServerOptions,
} from './handler.js';
export { AdapterCore, COMMON_OPTION_KEYS, requestState, guard, errorTypeOf, type CommonOptions } from './adapter.js';
export { RequestRecorder, RequestState, stateOf } from './recorder.js';
export { HttpStore, RouteKey, Series } from './store.js';
export { serialize } from './serializer.js';
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
