import { validate } from '@meterline/core/adapter';

// The option checks jobs adds to core's (`validate` of @meterline/core/adapter), in the same style and wording.

/** Check an interval option (ms). */
export function checkInterval(where: string, option: string, value: unknown, min: number): void {
  if (
    value !== undefined &&
    (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 86_400_000)
  ) {
    validate.fail(where, option, value, `expected an integer number of milliseconds from ${min} to 86400000`);
  }
}

/** Check a `signals` option. */
export function checkSignals(where: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s))) {
    validate.fail(
      where,
      'signals',
      value,
      "expected an array of signal names, e.g. ['SIGTERM', 'SIGINT'], or []",
    );
  }
}

/** Check a `metrics` selection: names or a predicate. */
export function checkSelection(where: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    validate.fail(
      where,
      'metrics',
      value,
      'expected an array of metric names or a function (name) => boolean',
    );
  }
}
