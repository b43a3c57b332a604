import type { Meter } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Meterline } from '@meterline/core';

/** The scope name of the instruments meterline's job and worker helpers create. */
export const JOBS_SCOPE = '@meterline/jobs';

export function jobsMeter(runtime: Meterline): Meter {
  return runtime.meterProvider.getMeter(JOBS_SCOPE);
}

/**
 * `create(meter)` on the jobs meter once per MeterProvider: every job or worker of a runtime records into the
 * same instruments.
 */
export function perMeterProvider<T>(create: (meter: Meter) => T): (runtime: Meterline) => T {
  const byProvider = new WeakMap<MeterProvider, T>();
  return (runtime) => {
    let out = byProvider.get(runtime.meterProvider);
    if (out === undefined) {
      out = create(jobsMeter(runtime));
      byProvider.set(runtime.meterProvider, out);
    }
    return out;
  };
}
