import { DEFAULT_MAX_BUCKETS, MAX_SCALE, MIN_SCALE } from './exponential-histogram.js';
import type { NativeSettings } from './series.js';
import type { MeterlineOptions } from './types.js';
import { checkBoolean, checkInteger, checkKnown, fail } from './validate.js';

/** The `nativeHistograms` option, validated: the settings of the native histograms, or undefined when off. */
export function nativeSettings(
  where: string,
  value: MeterlineOptions['nativeHistograms'],
): NativeSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { scale: MAX_SCALE, maxBuckets: DEFAULT_MAX_BUCKETS };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    checkBoolean(where, 'nativeHistograms', value);
    fail(where, 'nativeHistograms', value, 'expected true, false or { scale, maxBuckets }');
  }
  checkKnown(`${where} nativeHistograms`, value, ['scale', 'maxBuckets']);
  checkInteger(where, 'nativeHistograms.scale', value.scale, MIN_SCALE, MAX_SCALE);
  checkInteger(where, 'nativeHistograms.maxBuckets', value.maxBuckets, 2, 32_768);
  return { scale: value.scale ?? MAX_SCALE, maxBuckets: value.maxBuckets ?? DEFAULT_MAX_BUCKETS };
}
