import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { formatValue } from '../src/naming.js';
import { ExpositionWriter, serialize, serializeToBuffer } from '../src/serializer.js';

const values = [
  0,
  -0,
  7,
  -5,
  1.5,
  -0.25,
  1e15 - 1,
  1e15,
  -1e15,
  1e21,
  123456789012345,
  2 ** 53,
  NaN,
  Infinity,
  -Infinity,
];
const time: [number, number] = [1, 0];

function metricsOf(): ResourceMetrics {
  return {
    resource: resourceFromAttributes({ 'service.name': 'sérvice' }),
    scopeMetrics: [
      {
        scope: { name: 'test' },
        metrics: [
          {
            descriptor: {
              name: 'gauge.values',
              description: 'Values.',
              unit: '',
              valueType: ValueType.DOUBLE,
            },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: values.map((value, i) => ({
              attributes: { i: String(i), text: 'ü 日本 "q"\n' },
              startTime: time,
              endTime: time,
              value,
            })),
          },
          {
            descriptor: { name: 'latency', description: '', unit: 's', valueType: ValueType.DOUBLE },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.HISTOGRAM,
            dataPoints: [
              {
                attributes: { route: '/ä/:id' },
                startTime: time,
                endTime: time,
                value: {
                  buckets: { boundaries: [0.1, 1], counts: [3, 0, 1234567] },
                  sum: 12.75,
                  count: 1234570,
                  min: 0,
                  max: 9,
                },
              },
              {
                attributes: {},
                startTime: time,
                endTime: time,
                value: {
                  buckets: { boundaries: [0.1, 1], counts: [0, 0, 0] },
                  sum: 0,
                  count: 0,
                  min: 0,
                  max: 0,
                },
              },
            ],
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

describe('serializer', () => {
  it('writes every number exactly as formatValue prints it, and UTF-8 label values as UTF-8', () => {
    const text = serialize(metricsOf());
    const gaugeLines = text.split('\n').filter((l) => l.startsWith('gauge_values{'));
    expect(gaugeLines.map((l) => l.slice(l.lastIndexOf(' ') + 1))).toEqual(values.map(formatValue));
    expect(gaugeLines[0]).toBe('gauge_values{i="0",text="ü 日本 \\"q\\"\\n"} 0');
    expect(text).toContain('target_info{service_name="sérvice"');
    expect(text).toContain(
      [
        '# HELP latency_seconds latency_seconds',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{route="/ä/:id",le="0.1"} 3',
        'latency_seconds_bucket{route="/ä/:id",le="1"} 3',
        'latency_seconds_bucket{route="/ä/:id",le="+Inf"} 1234570',
        'latency_seconds_sum{route="/ä/:id"} 12.75',
        'latency_seconds_count{route="/ä/:id"} 1234570',
        'latency_seconds_bucket{le="0.1"} 0',
        'latency_seconds_bucket{le="1"} 0',
        'latency_seconds_bucket{le="+Inf"} 0',
        'latency_seconds_sum 0',
        'latency_seconds_count 0',
        '',
      ].join('\n'),
    );
  });

  it('gives the same bytes as the string, across a buffer that must grow', () => {
    serializeToBuffer(metricsOf()); // the next buffer is sized after this small one
    const many = metricsOf();
    const points = Array.from({ length: 3000 }, (_, i) => ({
      attributes: { i: String(i), label: 'x'.repeat(40) + 'é' },
      startTime: time,
      endTime: time,
      value: i * 7 - 5000,
    }));
    (many.scopeMetrics[0].metrics[0] as { dataPoints: unknown[] }).dataPoints = points;
    const bytes = serializeToBuffer(many);
    const text = bytes.toString('utf8');
    expect(bytes.length).toBeGreaterThan(64 * 1024 + 4096);
    expect(text).toBe(serialize(many));
    const lines = text.split('\n').filter((l) => l.startsWith('gauge_values{'));
    expect(lines).toHaveLength(3000);
    expect(lines[2999]).toBe(`gauge_values{i="2999",label="${'x'.repeat(40)}é"} ${2999 * 7 - 5000}`);
  });

  it('writes the same bytes in steps as in one go, stopping at every clock check once the deadline has passed', () => {
    const many = metricsOf();
    const gauge = many.scopeMetrics[0].metrics[0] as { dataPoints: unknown[] };
    gauge.dataPoints = Array.from({ length: 1000 }, (_, i) => ({
      attributes: { i: String(i) },
      startTime: time,
      endTime: time,
      value: i,
    }));
    const whole = serializeToBuffer(many);
    const writer = new ExpositionWriter(many, {}, undefined);
    let steps = 1;
    while (!writer.write(-Infinity)) steps++;
    // 1000 gauge points + 2 histogram points, the clock read every 32 points
    expect(steps).toBe(Math.floor(1002 / 32) + 1);
    expect(writer.result().bytes.equals(whole)).toBe(true);
    // a deadline in the future: one step
    const once = new ExpositionWriter(many, { targetInfo: false }, undefined);
    expect(once.write(Infinity)).toBe(true);
    expect(once.result().bytes.toString('utf8')).toBe(serialize(many, { targetInfo: false }));
  });
});
