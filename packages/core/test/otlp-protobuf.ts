// A minimal decoder of OTLP ExportMetricsServiceRequest protobuf messages (the fields the tests read), into the same
// shape as the OTLP JSON encoding. Field numbers from opentelemetry-proto (metrics/v1, common/v1, resource/v1).
import type { ExportRequest } from './otlp-receiver.js';

type Fields = Map<number, Array<Buffer | bigint | number>>;

/** Splits a message into its fields: varints as bigint, fixed64 as 8-byte Buffers, fixed32 as 4-byte, bytes as Buffer. */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let value: Buffer | bigint;
    if (wire === 0) value = varint();
    else if (wire === 1) value = buf.subarray(i, (i += 8));
    else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(i, (i += len));
    } else if (wire === 5) value = buf.subarray(i, (i += 4));
    else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const all = (f: Fields, n: number): Buffer[] => (f.get(n) ?? []) as Buffer[];
const one = (f: Fields, n: number): Buffer | undefined => all(f, n)[0];
const str = (f: Fields, n: number): string | undefined => one(f, n)?.toString('utf8');
const num = (f: Fields, n: number): number | undefined => {
  const v = f.get(n)?.[0];
  return v === undefined ? undefined : Number(v as bigint);
};
const u64 = (b: Buffer | undefined): string | undefined =>
  b === undefined ? undefined : b.readBigUInt64LE(0).toString();
const dbl = (b: Buffer | undefined): number | undefined => (b === undefined ? undefined : b.readDoubleLE(0));
const packed = <T>(b: Buffer | undefined, read: (b: Buffer, at: number) => T): T[] => {
  const out: T[] = [];
  for (let at = 0; b !== undefined && at < b.length; at += 8) out.push(read(b, at));
  return out;
};

function keyValues(list: Buffer[]): Array<{ key: string; value: Record<string, unknown> }> {
  return list.map((kv) => {
    const f = fields(kv);
    const v = fields(one(f, 2) ?? Buffer.alloc(0));
    const value: Record<string, unknown> = {};
    if (v.has(1)) value.stringValue = str(v, 1);
    if (v.has(2)) value.boolValue = num(v, 2) === 1;
    if (v.has(3)) value.intValue = String(v.get(3)![0]);
    if (v.has(4)) value.doubleValue = dbl(one(v, 4));
    return { key: str(f, 1) ?? '', value };
  });
}

function numberPoint(b: Buffer): Record<string, unknown> {
  const f = fields(b);
  const p: Record<string, unknown> = { attributes: keyValues(all(f, 7)) };
  if (f.has(4)) p.asDouble = dbl(one(f, 4));
  if (f.has(6)) p.asInt = one(f, 6)!.readBigInt64LE(0).toString();
  return p;
}

function histogramPoint(b: Buffer): Record<string, unknown> {
  const f = fields(b);
  return {
    attributes: keyValues(all(f, 9)),
    count: u64(one(f, 4)),
    sum: dbl(one(f, 5)),
    bucketCounts: packed(one(f, 6), (x, at) => x.readBigUInt64LE(at).toString()),
    explicitBounds: packed(one(f, 7), (x, at) => x.readDoubleLE(at)),
  };
}

export function decodeMetricsRequest(body: Buffer): ExportRequest {
  return {
    resourceMetrics: all(fields(body), 1).map((rmb) => {
      const rm = fields(rmb);
      const resource = fields(one(rm, 1) ?? Buffer.alloc(0));
      return {
        resource: { attributes: keyValues(all(resource, 1)) as never },
        scopeMetrics: all(rm, 2).map((smb) => {
          const sm = fields(smb);
          return {
            scope: { name: str(fields(one(sm, 1) ?? Buffer.alloc(0)), 1) ?? '' },
            metrics: all(sm, 2).map((mb) => {
              const m = fields(mb);
              const metric: Record<string, unknown> = { name: str(m, 1) };
              const gauge = one(m, 5);
              const sum = one(m, 7);
              const hist = one(m, 9);
              if (gauge) metric.gauge = { dataPoints: all(fields(gauge), 1).map(numberPoint) };
              if (sum) {
                const s = fields(sum);
                metric.sum = {
                  dataPoints: all(s, 1).map(numberPoint),
                  aggregationTemporality: num(s, 2),
                  isMonotonic: num(s, 3) === 1,
                };
              }
              if (hist) {
                const h = fields(hist);
                metric.histogram = {
                  dataPoints: all(h, 1).map(histogramPoint),
                  aggregationTemporality: num(h, 2),
                };
              }
              return metric as never;
            }),
          };
        }),
      };
    }),
  };
}
