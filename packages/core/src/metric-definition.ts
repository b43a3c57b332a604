import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, DataPointType, ValueType } from './otel-enums.js';

// A metric as data (OpenTelemetry name, unit, description), the tables of them, and the MetricData that carries
// one's points at collection time.

export interface MetricDefinition {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

/** A table of frozen definitions from `[name, unit, description]` rows, keyed as the rows are. */
export function defineMetrics<K extends string>(
  rows: Record<K, readonly [name: string, unit: string, description: string]>,
): Readonly<Record<K, MetricDefinition>> {
  const table = {} as Record<K, MetricDefinition>;
  for (const key of Object.keys(rows) as K[]) {
    const [name, unit, description] = rows[key];
    table[key] = Object.freeze({ name, unit, description });
  }
  return Object.freeze(table);
}

/** How each kind of instrument's points are carried: point type, value type, monotonicity of sums. */
const KINDS = {
  counter: { dataPointType: DataPointType.SUM, valueType: ValueType.INT, isMonotonic: true },
  upDownCounter: { dataPointType: DataPointType.SUM, valueType: ValueType.INT, isMonotonic: false },
  gauge: { dataPointType: DataPointType.GAUGE, valueType: ValueType.DOUBLE },
  histogram: { dataPointType: DataPointType.HISTOGRAM, valueType: ValueType.DOUBLE },
} as const;

type Kind = keyof typeof KINDS;

/**
 * The metric data of `def`'s points, cumulative; with a `template` (a metric of the same collection), its descriptor
 * fields and temporality are kept where the definition does not set them.
 */
export function metricData<K extends Kind>(
  def: MetricDefinition,
  kind: K,
  dataPoints: DataPoint<K extends 'histogram' ? Histogram : number>[],
  template?: MetricData,
): MetricData {
  const shape = KINDS[kind as Kind];
  const descriptor = {
    ...template?.descriptor,
    name: def.name,
    unit: def.unit,
    description: def.description,
    valueType: shape.valueType,
  };
  const aggregationTemporality = template?.aggregationTemporality ?? AggregationTemporality.CUMULATIVE;
  // sums alone carry `isMonotonic`
  if (shape.dataPointType === DataPointType.SUM) {
    const points = dataPoints as DataPoint<number>[];
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: shape.dataPointType,
      dataPoints: points,
      isMonotonic: shape.isMonotonic,
    };
  }
  return { descriptor, aggregationTemporality, dataPointType: shape.dataPointType, dataPoints } as MetricData;
}
