import type { Attributes } from '@opentelemetry/api';
import { labelName } from './naming.js';

function attributeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/**
 * The labels of an attribute set as `[name, value, name, value, …]` (one flat array: every writer renders it once per
 * series): names sanitised, colliding names merged with `;` as the spec says, unset attributes left out.
 */
export function labelPairs(attributes: Attributes): string[] {
  const pairs: string[] = [];
  for (const key of Object.keys(attributes)) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = labelName(key);
    const value = attributeValue(v);
    let at = 0;
    while (at < pairs.length && pairs[at] !== name) at += 2;
    if (at < pairs.length) pairs[at + 1] = pairs[at + 1] + ';' + value;
    else pairs.push(name, value);
  }
  return pairs;
}
