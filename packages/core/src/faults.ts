// Internal faults by component: reportOnce logs a fault once per place but counts every occurrence here, for
// `meterline_internal_faults_total{component}`. The component set is fixed, so the label stays bounded whatever
// the `where` text says.

/** The `component` label values of `meterline_internal_faults_total`, in export order. */
export const FAULT_COMPONENTS = Object.freeze([
  'recorder',
  'adapter',
  'attributes',
  'sockets',
  'handler',
  'collection',
  'serializer',
  'jobs',
  'other',
] as const);
export type FaultComponent = (typeof FAULT_COMPONENTS)[number];

/** `where` prefixes (as reportOnce callers word them) and the component each belongs to; first match wins. */
const PREFIXES: ReadonlyArray<readonly [string, FaultComponent]> = [
  ['request start', 'recorder'],
  ['request finish', 'recorder'],
  ['adapter ', 'adapter'],
  ['express', 'adapter'],
  ['fastify', 'adapter'],
  ['koa', 'adapter'],
  ['node listener', 'adapter'],
  ['setRoute', 'adapter'],
  ['setError', 'adapter'],
  ['the attributes callback', 'attributes'],
  ['socket', 'sockets'],
  ['serving /metrics', 'handler'],
  ['serving the metrics page', 'handler'],
  ['page ', 'handler'],
  ['metric collection', 'collection'],
  ['serialising', 'serializer'],
  ['offline worker', 'jobs'],
  ['onPush', 'jobs'],
  ['push', 'jobs'],
  ['scheduled push', 'jobs'],
  ['textfile', 'jobs'],
];
const OTHER = FAULT_COMPONENTS.indexOf('other');

/** Components of the places seen so far: a fault that repeats (on every request, say) is one lookup. */
const byPlace = new Map<string, number>();
const MAX_PLACES = 1000;

/** The index in FAULT_COMPONENTS of the component a `where` belongs to. */
export function faultComponentIndex(where: string): number {
  const known = byPlace.get(where);
  if (known !== undefined) return known;
  let index = OTHER;
  for (const [prefix, component] of PREFIXES) {
    if (where.startsWith(prefix)) {
      index = FAULT_COMPONENTS.indexOf(component);
      break;
    }
  }
  if (byPlace.size < MAX_PLACES) byPlace.set(where, index);
  return index;
}

// Shared through globalThis: the ESM and CJS builds of core (or two copies of it) count into one table.
const kFaults = Symbol.for('meterline.faults');
type Global = { [kFaults]?: number[] };

/** Faults counted so far, by component index (never reset: a counter). */
export function faultCounts(): number[] {
  const g = globalThis as Global;
  return (g[kFaults] ??= FAULT_COMPONENTS.map(() => 0));
}

/** Count one fault of `where`. */
export function countFault(where: string): void {
  faultCounts()[faultComponentIndex(where)]++;
}
