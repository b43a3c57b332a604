// What the benchmarks compare: per framework, variants of one app (GET /users/:id -> small JSON, built in apps.mjs).
// Tiny and import-free: the server of every variant loads it, the truly bare one included.

export const FRAMEWORKS = ['express', 'fastify', 'koa'];

/** The metrics option users pick instead of meterline, per framework. */
export const ALTERNATIVE = {
  express: 'express-prom-bundle',
  fastify: 'fastify-metrics',
  koa: 'prom-client (by hand)',
};

/**
 * bare                   the app as a user has it without meterline: nothing of ours or of the alternatives imported,
 *                        no warm-up; every ratio is taken against it
 * control                bare again, in a process of its own: its ratio to bare is the run's noise floor (A/A)
 * meterline              the app with meterline's one line
 * alternative            the app with the alternative instead
 * <app>-preloaded        diagnosis: the same app after importing meterline's adapter and the alternative's module and
 *                        running process.nextTick 3,000 times (settleNextTick in apps.mjs), the baseline every
 *                        variant used until 2026-12; against bare it shows what that preparation does to a process
 */
export const VARIANTS = [
  'bare',
  'control',
  'meterline',
  'alternative',
  'bare-preloaded',
  'meterline-preloaded',
  'alternative-preloaded',
];

const PRELOADED = '-preloaded';

/** The app a variant builds ('bare', 'meterline' or 'alternative') and whether its process is preloaded first. */
export function appOf(variant) {
  const preloaded = variant.endsWith(PRELOADED);
  const app = preloaded ? variant.slice(0, -PRELOADED.length) : variant;
  return { app: app === 'control' ? 'bare' : app, preloaded };
}

/** The variant's name in results tables. */
export function variantLabel(framework, variant) {
  if (variant === 'control') return 'bare again (A/A control)';
  const { app, preloaded } = appOf(variant);
  const name = app === 'alternative' ? ALTERNATIVE[framework] : app;
  return preloaded ? `${name}, preloaded + settled (diagnosis)` : name;
}

/** Whether the variant's process imports an @meterline adapter (which must be built first). */
export function importsMeterline(variant) {
  const { app, preloaded } = appOf(variant);
  return app === 'meterline' || preloaded;
}
