// A local OTLP/HTTP metrics receiver for tests: decodes every export request it receives (JSON or protobuf).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeMetricsRequest } from './otlp-protobuf.js';

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface Point {
  attributes?: KeyValue[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
  bucketCounts?: Array<string | number>;
  explicitBounds?: number[];
}
interface Metric {
  name: string;
  sum?: { dataPoints: Point[]; isMonotonic?: boolean; aggregationTemporality?: number };
  gauge?: { dataPoints: Point[] };
  histogram?: { dataPoints: Point[]; aggregationTemporality?: number };
}
export interface ExportRequest {
  resourceMetrics: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics: Array<{ scope?: { name: string }; metrics: Metric[] }>;
  }>;
}

const valueOf = (v: AnyValue): string => String(v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue);
export const attrs = (kv: KeyValue[] = []): Record<string, string> =>
  Object.fromEntries(kv.map((a) => [a.key, valueOf(a.value)]));

export class OtlpReceiver {
  readonly requests: ExportRequest[] = [];
  /** export requests received so far */
  received = 0;
  contentTypes = new Set<string>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.contentTypes.add(String(req.headers['content-type']));
        if (req.url === '/v1/metrics') {
          this.received++;
          const protobuf = req.headers['content-type'] === 'application/x-protobuf';
          this.requests.push(
            protobuf ? decodeMetricsRequest(body) : (JSON.parse(body.toString('utf8')) as ExportRequest),
          );
          if (this.requests.length > 5) this.requests.shift(); // the latest only: a heap test runs hundreds of exports
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/metrics`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()) ?? r());
  }

  /** The data points of metric `name` in the latest export that has it. */
  latest(name: string): { metric: Metric; points: Point[]; resource: Record<string, string> } | undefined {
    for (let i = this.requests.length - 1; i >= 0; i--) {
      for (const rm of this.requests[i].resourceMetrics) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            if (m.name !== name) continue;
            const points = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? [];
            return { metric: m, points, resource: attrs(rm.resource?.attributes) };
          }
        }
      }
    }
    return undefined;
  }

  /** Sum of a counter's values (or a histogram's counts) over the points whose attributes include `match`. */
  total(name: string, match: Record<string, string> = {}): number {
    const found = this.latest(name);
    if (found === undefined) return 0;
    let n = 0;
    for (const p of found.points) {
      const a = attrs(p.attributes);
      if (!Object.entries(match).every(([k, v]) => a[k] === v)) continue;
      n += Number(p.count ?? p.asInt ?? p.asDouble ?? 0);
    }
    return n;
  }
}
