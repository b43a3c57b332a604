import { otelApi } from './otel-api.js';

import { countFault } from './faults.js';
import type { ErrorHook } from './types.js';

let hook: ErrorHook | undefined;
const reported = new Set<string>();

/** Replace the hook that receives internal faults (default: OpenTelemetry diag logger + a process warning). */
export function setErrorHook(fn: ErrorHook | undefined): void {
  if (fn !== undefined && typeof fn !== 'function') {
    throw new TypeError(`meterline: onError must be a function, got ${typeof fn}`);
  }
  hook = fn;
}

/**
 * Report an internal fault once per `where`. Metrics code must never break a request: callers swallow the
 * error and hand it here, which reports the first occurrence and drops the repeats. Every occurrence, repeats
 * included, is counted in `meterline_internal_faults_total{component}`.
 */
export function reportOnce(where: string, error: unknown): void {
  try {
    countFault(where);
  } catch {
    // counting must not stop the report
  }
  if (reported.has(where)) return;
  reported.add(where);
  try {
    if (hook !== undefined) {
      hook(error, where);
      return;
    }
    const message = `meterline: ${where} failed (reported once, requests are unaffected): ${
      error instanceof Error ? error.message : String(error)
    }`;
    otelApi.diag.error(message, error);
    process.emitWarning(message, { code: 'METERLINE_INTERNAL' });
  } catch {
    // a broken hook must not break anything either
  }
}

/** Forget what has been reported (tests). */
export function resetReported(): void {
  reported.clear();
}
