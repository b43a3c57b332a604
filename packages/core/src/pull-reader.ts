import type { MetricReader, MetricReaderOptions } from '@opentelemetry/sdk-metrics';
import { sdkMetrics } from './otel-sdk.js';

/**
 * The reader the shared Prometheus handler collects from, on demand: no server, no timer. Defined here rather than
 * taken from `@opentelemetry/exporter-prometheus`, which pins exact versions of sdk-metrics (a second copy in the
 * user's tree) and is needed for nothing else: serialisation is our own.
 */
export type PullReader = MetricReader;

type PullReaderClass = new (options?: MetricReaderOptions) => PullReader;

let defined: PullReaderClass | undefined;

// the class extends the SDK's MetricReader, so it is defined when the first reader is made, not at import
function pullReaderClass(): PullReaderClass {
  return (defined ??= class PullReader extends sdkMetrics().MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  });
}

export const PullReader = function PullReader(options?: MetricReaderOptions): PullReader {
  return new (pullReaderClass())(options);
} as unknown as PullReaderClass;

Object.defineProperty(PullReader, Symbol.hasInstance, {
  value: (value: unknown) => defined !== undefined && value instanceof defined,
});
