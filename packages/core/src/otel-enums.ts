import type { ValueType as ApiValueType } from '@opentelemetry/api';
import type {
  AggregationTemporality as SdkAggregationTemporality,
  AggregationType as SdkAggregationType,
  DataPointType as SdkDataPointType,
} from '@opentelemetry/sdk-metrics';

// The SDK and API enums meterline's collection and serialisation use, as constants: reading them from the SDK would
// load it at import (otel-sdk.ts). The same values on the 2.x and 3.x lines; test/lazy-sdk.test.ts compares them.

export const DataPointType = Object.freeze({
  HISTOGRAM: 0 as SdkDataPointType.HISTOGRAM,
  EXPONENTIAL_HISTOGRAM: 1 as SdkDataPointType.EXPONENTIAL_HISTOGRAM,
  GAUGE: 2 as SdkDataPointType.GAUGE,
  SUM: 3 as SdkDataPointType.SUM,
});

export const AggregationTemporality = Object.freeze({
  DELTA: 0 as SdkAggregationTemporality.DELTA,
  CUMULATIVE: 1 as SdkAggregationTemporality.CUMULATIVE,
});

export const AggregationType = Object.freeze({
  DROP: 1 as SdkAggregationType.DROP,
});

export const ValueType = Object.freeze({
  INT: 0 as ApiValueType.INT,
  DOUBLE: 1 as ApiValueType.DOUBLE,
});
