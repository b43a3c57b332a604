import {
  context,
  propagation,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { randomBytes } from 'node:crypto';

// Tracing for tests through the real OpenTelemetry API: the AsyncLocalStorage context manager and the W3C propagator
// of the 3.x line, and a tracer whose spans carry real random ids (children keep their parent's trace id). There is
// no 3.x trace SDK on the registry (sdk-trace-base 2.x requires api < 1.10), and exemplars need only span contexts.

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

class IdTracer implements Tracer {
  constructor(private readonly sampled: boolean) {}

  startSpan(_name: string, _options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = trace.getSpanContext(ctx);
    return trace.wrapSpanContext({
      traceId: parent?.traceId ?? hex(16),
      spanId: hex(8),
      traceFlags: this.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const parent = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

export interface TestTracing {
  tracer: Tracer;
  /** Unregister the provider, context manager and propagator. */
  disable(): void;
}

/** Register a global tracer provider, context manager and W3C propagator; `sampled: false` gives unsampled spans. */
export function registerTestTracing(options: { sampled?: boolean } = {}): TestTracing {
  const tracer = new IdTracer(options.sampled ?? true);
  const provider: TracerProvider = { getTracer: () => tracer };
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer,
    disable() {
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The trace context of the active span as request headers (`traceparent`). */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** Run `fn` in the context the request headers carry, with a new server span in it (what HTTP instrumentation does). */
export function withServerSpan<T>(tracer: Tracer, headers: Record<string, unknown>, fn: () => T): T {
  const parent = propagation.extract(context.active(), headers);
  const span = tracer.startSpan('server', {}, parent);
  return context.with(trace.setSpan(parent, span), fn);
}
