import { createRequire } from 'node:module';

// The OpenTelemetry SDK packages, loaded when the runtime is created (metrics(), configure(), a handler), never at
// import: importing an adapter loads and patches nothing heavy. Loaded through require so that creating the
// runtime stays synchronous; the enum values the collection path needs are in otel-enums.ts.

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type SdkResources = typeof import('@opentelemetry/resources');

const requireHere = createRequire(import.meta.url);
let metricsModule: SdkMetrics | undefined;
let resourcesModule: SdkResources | undefined;

/** `@opentelemetry/sdk-metrics`, loaded on first use. */
export function sdkMetrics(): SdkMetrics {
  return (metricsModule ??= requireHere('@opentelemetry/sdk-metrics') as SdkMetrics);
}

/** `@opentelemetry/resources`, loaded on first use. */
export function sdkResources(): SdkResources {
  return (resourcesModule ??= requireHere('@opentelemetry/resources') as SdkResources);
}
