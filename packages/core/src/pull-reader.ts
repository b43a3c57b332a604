import { MetricReader } from '@opentelemetry/sdk-metrics';

/**
 * The reader the shared Prometheus handler collects from, on demand: no server, no timer. Defined here rather than
 * taken from `@opentelemetry/exporter-prometheus`, which pins exact versions of sdk-metrics (a second copy in the
 * user's tree) and is needed for nothing else: serialisation is our own.
 */
export class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
