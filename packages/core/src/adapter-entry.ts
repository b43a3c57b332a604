// `@meterline/core/adapter`: the contract between core and a framework adapter. Not for applications.
// first: holds a tick object before anything of meterline allocates (tick-pin.ts)
import './tick-pin.js';
export { AdapterCore, type AdapterSpec } from './adapter.js';
export { RequestState } from './request-state.js';
export { stateOf, reservedUrl } from './measured.js';
export { RouteKey } from './series.js';
export { METHOD_NAMES } from './http-metrics.js';
export { reportOnce } from './report.js';
export type { CommonOptions } from './types.js';
export { errorTypeOf } from './error-type.js';
// option validation with the same messages as core's own (for meterline packages built on core), also as one
// namespace (`validate.checkX`, as core's own files use it)
export * from './validate.js';
export * as validate from './validate.js';
// meterline's self-metrics, for meterline packages that count into them (pushes from @meterline/jobs)
export { selfMetricsOf, type SelfMetrics } from './self-metrics.js';
// the SDK's enum values, without loading the SDK at import
export { AggregationTemporality, DataPointType } from './otel-enums.js';
