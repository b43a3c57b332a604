import type { ResourceMetrics, ViewOptions } from '@opentelemetry/sdk-metrics';
import { AggregationType } from './otel-enums.js';
import { HTTP_METRICS } from './http-metrics.js';

// Running next to `@opentelemetry/instrumentation-http`: it records `http.server.request.duration` too (without
// `http.route` unless a framework instrumentation sets it), so two producers would give the same Prometheus family
// twice over. Meterline keeps its own (routes, caps, aborts) and steps back for everything else the
// instrumentation records (client metrics, the older `http.server.duration`).

/** Scope (meter) name of `@opentelemetry/instrumentation-http` on every release line. */
export const OTEL_HTTP_INSTRUMENTATION_SCOPE = '@opentelemetry/instrumentation-http';

/** Views for the MeterProvider meterline creates: the instrumentation's server duration is not even aggregated. */
export function coexistenceViews(): ViewOptions[] {
  return [
    {
      meterName: OTEL_HTTP_INSTRUMENTATION_SCOPE,
      instrumentName: HTTP_METRICS.duration.name,
      aggregation: { type: AggregationType.DROP },
    },
  ];
}

/**
 * The collected metrics without the instrumentation's `http.server.request.duration`, for a MeterProvider that is
 * not meterline's (no View there). Returns `collected` itself when there is nothing to drop.
 */
export function withoutDuplicateServerDuration(collected: ResourceMetrics): ResourceMetrics {
  const scopes = collected.scopeMetrics;
  let found = false;
  for (const s of scopes) {
    if (s.scope.name === OTEL_HTTP_INSTRUMENTATION_SCOPE) {
      found = s.metrics.some((m) => m.descriptor.name === HTTP_METRICS.duration.name);
      if (found) break;
    }
  }
  if (!found) return collected;
  return {
    resource: collected.resource,
    scopeMetrics: scopes.map((s) =>
      s.scope.name !== OTEL_HTTP_INSTRUMENTATION_SCOPE
        ? s
        : {
            scope: s.scope,
            metrics: s.metrics.filter((m) => m.descriptor.name !== HTTP_METRICS.duration.name),
          },
    ),
  };
}
