/**
 * OpenTelemetry -> Prometheus name translation, as the OpenTelemetry compatibility specification describes it:
 * invalid characters become `_`, the unit becomes a suffix (`s` -> `_seconds`, `By` -> `_bytes`, `{...}`
 * annotations dropped, `1` -> `_ratio` on gauges), monotonic sums end in `_total`.
 */

const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};
const PER_WORDS: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

function sanitizeName(name: string): string {
  let out = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/__+/g, '_');
  if (/^[0-9]/.test(out)) out = '_' + out;
  return out;
}

function unitSuffix(unit: string, isGauge: boolean): string {
  const u = unit.replace(/\{[^}]*\}/g, '').trim();
  if (u === '') return '';
  if (u === '1') return isGauge ? 'ratio' : '';
  const slash = u.indexOf('/');
  if (slash >= 0) {
    const num = u.slice(0, slash);
    const den = u.slice(slash + 1);
    const a = num === '' ? '' : (UNIT_WORDS[num] ?? sanitizeName(num));
    const b = PER_WORDS[den] ?? UNIT_WORDS[den] ?? sanitizeName(den);
    return a === '' ? 'per_' + b : a + '_per_' + b;
  }
  return UNIT_WORDS[u] ?? sanitizeName(u).replace(/^_+|_+$/g, '');
}

/** The Prometheus family name (without `_total`, which counters get from the serialiser). */
export function prometheusName(name: string, unit: string, kind: 'counter' | 'gauge' | 'histogram'): string {
  let base = sanitizeName(name);
  if (kind === 'counter' && base.endsWith('_total')) base = base.slice(0, -'_total'.length);
  const suffix = unitSuffix(unit, kind === 'gauge');
  if (suffix !== '' && !base.endsWith('_' + suffix)) base = base + '_' + suffix;
  return base;
}

const labelCache = new Map<string, string>();

/** A valid Prometheus label name for an attribute key (cached: keys are few). */
export function labelName(key: string): string {
  let out = labelCache.get(key);
  if (out !== undefined) return out;
  out = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(out)) out = 'key_' + out;
  if (out.startsWith('__') && !key.startsWith('__')) out = 'key' + out;
  if (out === 'le' || out === 'quantile') out = 'otel_' + out;
  if (labelCache.size < 10000) labelCache.set(key, out);
  return out;
}

/** Escape a label value for the text format. */
export function escapeLabelValue(value: string): string {
  if (!/[\\\n"]/.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(text: string): string {
  if (!/[\\\n]/.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value in the text format. */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}
