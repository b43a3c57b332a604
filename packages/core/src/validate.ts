/**
 * Startup validation of options: every problem throws one `TypeError`/`RangeError` that names the option, the
 * value given and what is allowed.
 */

export type Rule = (value: unknown, name: string) => void;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

export function fail(where: string, name: string, value: unknown, allowed: string): never {
  throw new TypeError(`${where}: option "${name}" is ${show(value)}; ${allowed}`);
}

/** Reject option names that are not in `known` (typos must not pass silently). */
export function checkKnown(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: unknown option "${key}"; known options are ${known.join(', ')}`);
    }
  }
}

export function checkObject(
  where: string,
  name: string,
  value: unknown,
): asserts value is object | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    fail(where, name, value, 'expected an options object');
  }
}

export function checkFunction(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail(where, name, value, 'expected a function');
}

export function checkBoolean(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') fail(where, name, value, 'expected true or false');
}

export function checkString(where: string, name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    fail(where, name, value, 'expected a non-empty string');
  }
}

export function checkInteger(where: string, name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, name, value, `expected an integer from ${min} to ${max}`);
  }
}

export function checkPath(where: string, name: string, value: unknown): void {
  if (value === undefined || value === false) return;
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    fail(where, name, value, 'expected a path starting with "/" (no query, no spaces), or false to disable');
  }
}

/** Buckets: a non-empty array of finite numbers, strictly increasing. */
export function checkBuckets(where: string, name: string, value: unknown): readonly number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    fail(where, name, value, 'expected a non-empty array of increasing finite numbers');
  }
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail(where, name, value, `bucket ${i} is not a finite number; expected increasing finite numbers`);
    }
    if (i > 0 && v <= value[i - 1]) {
      fail(where, name, value, `buckets must be strictly increasing (${value[i - 1]} then ${v})`);
    }
  }
  if (name.toLowerCase().includes('size') || name.toLowerCase().includes('duration')) {
    if (value[0] < 0) fail(where, name, value, 'buckets must not be negative');
  }
  return Object.freeze([...value]);
}

export function checkStringList(where: string, name: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' && !(v instanceof RegExp))) {
    fail(where, name, value, 'expected an array of strings or regular expressions');
  }
}
