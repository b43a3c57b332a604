import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import * as sdk from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, AggregationType, DataPointType, ValueType } from '../src/otel-enums.js';

const run = promisify(execFile);
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const hooks = pathToFileURL(join(pkg, 'test', 'fixtures', 'deny-sdk-import.mjs')).href;

// Runs in a child process against the built package: what a user's process loads.
const probe = (load: string) => `
const { createRequire, register } = require('node:module');
const req = createRequire(${JSON.stringify(join(pkg, 'package.json'))});
const sdkLoaded = () => Object.keys(req.cache).filter((p) => /@opentelemetry[\\\\/](sdk-metrics|resources)[\\\\/]/.test(p)).length;
(async () => {
  ${load}
  const atImport = sdkLoaded();
  core.configure({ registerGlobal: false });
  console.log(JSON.stringify({ atImport, afterConfigure: sdkLoaded(), pullReader: typeof core.PullReader }));
})().catch((err) => { console.log(JSON.stringify({ error: String(err) })); });
`;

async function loads(load: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['-e', probe(load)], { cwd: pkg });
  return JSON.parse(stdout.trim()) as Record<string, unknown>;
}

describe('the OpenTelemetry SDK is loaded when the runtime is created, not at import', () => {
  it('with import (ESM build): no SDK module until configure(), and no ES module of the API or SDK ever', async () => {
    const result = await loads(
      `register(${JSON.stringify(hooks)});
       await import('@meterline/core/adapter');
       const core = await import('@meterline/core');`,
    );
    expect(result).toEqual({ atImport: 0, afterConfigure: expect.any(Number), pullReader: 'function' });
    expect(result.afterConfigure).toBeGreaterThan(0);
  });

  it('with require (CommonJS build): no SDK module until configure()', async () => {
    const result = await loads(
      `require('@meterline/core/adapter'); const core = require('@meterline/core');`,
    );
    expect(result.atImport).toBe(0);
    expect(result.afterConfigure).toBeGreaterThan(0);
  });
});

describe("meterline's copies of the SDK enums", () => {
  it('hold the values of the installed SDK', () => {
    expect({ ...DataPointType }).toEqual({
      HISTOGRAM: sdk.DataPointType.HISTOGRAM,
      EXPONENTIAL_HISTOGRAM: sdk.DataPointType.EXPONENTIAL_HISTOGRAM,
      GAUGE: sdk.DataPointType.GAUGE,
      SUM: sdk.DataPointType.SUM,
    });
    expect({ ...AggregationTemporality }).toEqual({
      DELTA: sdk.AggregationTemporality.DELTA,
      CUMULATIVE: sdk.AggregationTemporality.CUMULATIVE,
    });
    expect(AggregationType.DROP).toBe(sdk.AggregationType.DROP);
    expect({ ...ValueType }).toEqual({ INT: api.ValueType.INT, DOUBLE: api.ValueType.DOUBLE });
  });
});

describe('PullReader', () => {
  it('is a MetricReader of the SDK, made with new, and instanceof PullReader', async () => {
    const { PullReader } = await import('../src/pull-reader.js');
    const reader = new PullReader();
    expect(reader).toBeInstanceOf(PullReader);
    expect(typeof reader.collect).toBe('function');
    expect({}).not.toBeInstanceOf(PullReader);
  });
});
