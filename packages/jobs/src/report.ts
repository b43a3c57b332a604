import { reportOnce } from '@meterline/core/adapter';

// Failures of a push, a textfile write or an app callback are reported, never thrown into the job or schedule.

/** The message of something thrown, whatever it is. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Call an app callback; what it throws is reported once (as `what`) and goes no further. */
export function callSafely<T>(callback: ((value: T) => void) | undefined, value: T, what: string): void {
  if (callback === undefined) return;
  try {
    callback(value);
  } catch (err) {
    reportOnce(what, err);
  }
}
