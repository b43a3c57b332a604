import * as validate from './validate.js';

/**
 * The metrics port of this instance under a process manager that runs N copies of the app without a shared
 * primary, e.g. PM2 cluster mode: `base` plus the instance number PM2 puts in `NODE_APP_INSTANCE` (0 to N-1), or
 * `base` when the variable is unset. Give it to `startMetricsServer({ port: instancePort(9464) })` and let Prometheus
 * scrape each instance (see the README: PM2).
 */
export function instancePort(base: number, variable = 'NODE_APP_INSTANCE'): number {
  const where = 'meterline.instancePort';
  validate.checkInteger(where, 'base', base, 1, 65535);
  validate.checkString(where, 'variable', variable);
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return base;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || base + n > 65535) {
    validate.fail(
      where,
      variable,
      raw,
      `expected an instance number from 0 to ${65535 - base} in the environment`,
    );
  }
  return base + n;
}
