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
 * alternative            the app with the alternative in the configuration its README shows for per-route metrics
 * alternative-tuned      the alternative in its cheapest configuration that still gives per-route RED metrics
 *                        (apps.mjs says what that is per framework)
 * imported               bare, after importing meterline's adapter without using it
 * patched                bare, after creating meterline's runtime (Node's prototypes patched, and Express's router),
 *                        without measuring any request
 * runtime                bare, after creating meterline's runtime and undoing every patch it applied: the SDK and
 *                        the store only (patched minus runtime: the patches; runtime minus imported: the SDK)
 * meterline-no-<part>    diagnosis: meterline with one part of its per-request work taken out (ablations.mjs); its
 *                        saving against `meterline` is that part's cost
 * <app>-preloaded        diagnosis: the same app after importing meterline's adapter and the alternative's module and
 *                        running process.nextTick 3,000 times (settleNextTick in apps.mjs), the baseline every
 *                        variant used until 2026-12; against bare it shows what that preparation does to a process
 */
export const ABLATIONS = ['no-route', 'no-clock', 'no-record', 'no-bytes'];

export const VARIANTS = [
  'bare',
  'control',
  'meterline',
  'alternative',
  'alternative-tuned',
  'imported',
  'patched',
  'runtime',
  ...ABLATIONS.map((part) => `meterline-${part}`),
  'bare-preloaded',
  'meterline-preloaded',
  'alternative-preloaded',
];

const PRELOADED = '-preloaded';

/**
 * What a variant builds: `app` is the metrics line ('bare', 'meterline' or 'alternative'), `preloaded` whether its
 * process is preloaded first, `setup` what else the process does ('imported', 'patched', 'runtime', 'tuned' or an
 * ablation of ABLATIONS), `measures` whether its /metrics counts the requests (the throughput tool checks those).
 */
export function appOf(variant) {
  const preloaded = variant.endsWith(PRELOADED);
  let app = preloaded ? variant.slice(0, -PRELOADED.length) : variant;
  let setup;
  if (app === 'control') app = 'bare';
  else if (app === 'imported' || app === 'patched' || app === 'runtime') [app, setup] = ['bare', app];
  else if (app === 'alternative-tuned') [app, setup] = ['alternative', 'tuned'];
  else if (app.startsWith('meterline-')) [app, setup] = ['meterline', app.slice('meterline-'.length)];
  const measures = app !== 'bare' && (setup === undefined || setup === 'tuned');
  return { app, preloaded, setup, measures };
}

/** The variant's name in results tables. */
export function variantLabel(framework, variant) {
  if (variant === 'control') return 'bare again (A/A control)';
  if (variant === 'imported') return 'bare + meterline imported, unused';
  if (variant === 'patched') return 'bare + meterline runtime created, nothing measured';
  if (variant === 'runtime') return 'bare + meterline runtime created, patches undone';
  const { app, preloaded, setup } = appOf(variant);
  let name = app === 'alternative' ? ALTERNATIVE[framework] : app;
  if (setup === 'tuned') name += ' (tuned)';
  else if (setup !== undefined) name += ` without ${setup.slice(3)} (diagnosis)`;
  return preloaded ? `${name}, preloaded + settled (diagnosis)` : name;
}

/** Whether the variant's process imports an @meterline adapter (which must be built first). */
export function importsMeterline(variant) {
  const { app, preloaded, setup } = appOf(variant);
  // bare's setups (imported, patched, runtime) all load meterline
  return app === 'meterline' || preloaded || (app === 'bare' && setup !== undefined);
}
