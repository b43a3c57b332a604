import type { ProxyTracerProvider, SpanContext } from '@opentelemetry/api';
import { otelApi } from './otel-api.js';

const { context, trace, TraceFlags } = otelApi;

// Exemplars come from the span that is active when a request starts. Reading the active context costs a context
// manager lookup per request, so it is done only once a tracer provider other than the no-op one is registered.

/** The no-op provider of this copy of the API: what an unregistered global proxy delegates to. */
const NOOP_PROVIDER = new otelApi.ProxyTracerProvider().getDelegate();
let registered = false;

/** Whether a real tracer provider is registered (sticky once seen: providers are registered once, at startup). */
function tracing(): boolean {
  if (registered) return true;
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  const real = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (real === NOOP_PROVIDER) return false;
  registered = true;
  return true;
}

/**
 * The context of the sampled span active now, or undefined (no tracer provider, no span, or not sampled). Called at
 * request start, where the request's span is the active one; at 'close' another request's context may be active.
 */
export function activeSampledSpan(): SpanContext | undefined {
  if (!tracing()) return undefined;
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  return (sc.traceFlags & TraceFlags.SAMPLED) !== 0 && trace.isSpanContextValid(sc) ? sc : undefined;
}

/** Forget that a provider was seen (tests that register and disable providers). */
export function resetTracingCheck(): void {
  registered = false;
}
