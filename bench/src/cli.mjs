// Command-line flags of the benchmarks: a bad value ends the process with exit code 2, naming the flag.

/** Report a bad flag and exit with code 2. */
export function fail(message) {
  console.error(message);
  process.exit(2);
}

/** `--name value` as a positive number (a positive integer with `integer`). */
export function positive(name, value, { integer = false } = {}) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    fail(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `--name a,b,c` as a list whose every item is one of `allowed`. */
export function list(name, value, allowed) {
  const items = value.split(',').map((s) => s.trim());
  for (const item of items) {
    if (!allowed.includes(item)) {
      fail(`--${name}: unknown value ${JSON.stringify(item)} (${allowed.join(', ')})`);
    }
  }
  return items;
}

/** `--variants`: every variant is compared with bare, so bare must be among them. */
export function variantList(value, allowed) {
  const variants = list('variants', value, allowed);
  if (!variants.includes('bare'))
    fail('--variants: bare must be one of them (the others are compared with it)');
  return variants;
}
