import type { Attributes } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ATTRIBUTES } from './constants.js';
import { AttributeValueCap, type OverflowCounts } from './cardinality.js';
import { reportOnce } from './report.js';
import type { AttributesCallback } from './types.js';

/** A validated, capped set of user attributes and the string that identifies it. */
export interface ExtraAttributes {
  key: string;
  attrs: Attributes;
}

const RESERVED = new Set(REQUEST_ATTRIBUTES);
const VALID_KEY = /^[a-zA-Z_][a-zA-Z0-9_.]{0,63}$/;
const MAX_KEYS = 10;
const MAX_VALUE_LENGTH = 128;

/**
 * Runs the user's `attributes` callback and keeps what it returns from creating unbounded series: at most
 * `maxValues` distinct values per key (more fold into `__overflow__`), at most 10 keys, short values of
 * primitive types, no key that would override a built-in attribute. A callback that throws or returns junk is
 * reported once; the request is recorded without the bad part.
 */
export class AttributeGuard {
  private readonly values: AttributeValueCap;
  private readonly cache = new Map<string, ExtraAttributes>();
  constructor(
    private readonly fn: AttributesCallback,
    maxValues: number,
    counts: OverflowCounts,
  ) {
    this.values = new AttributeValueCap(maxValues, counts);
  }

  evaluate(res: ServerResponse): ExtraAttributes | undefined {
    let raw: unknown;
    try {
      raw = this.fn((res as ServerResponse & { req: IncomingMessage }).req, res);
    } catch (err) {
      reportOnce('the attributes callback', err);
      return undefined;
    }
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      reportOnce('the attributes callback result', new TypeError(`expected an object, got ${typeof raw}`));
      return undefined;
    }
    const keys = Object.keys(raw as object).sort();
    let id = '';
    let names: string[] | undefined;
    let values: Array<string | number | boolean> | undefined;
    let kept = 0;
    for (const k of keys) {
      const v = (raw as Record<string, unknown>)[k];
      if (!VALID_KEY.test(k) || RESERVED.has(k) || kept >= MAX_KEYS) {
        reportOnce(
          `the attributes callback key "${k.slice(0, 64)}"`,
          new TypeError('invalid, reserved or one key too many; dropped'),
        );
        continue;
      }
      let value: string | number | boolean;
      if (typeof v === 'string') value = v.length > MAX_VALUE_LENGTH ? v.slice(0, MAX_VALUE_LENGTH) : v;
      else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') value = v;
      else {
        if (v !== undefined)
          reportOnce(
            `the attributes callback value of "${k}"`,
            new TypeError(`unsupported ${typeof v}; dropped`),
          );
        continue;
      }
      value = this.values.cap(k, value);
      (names ??= []).push(k);
      (values ??= []).push(value);
      id += k + '\u0000' + String(value) + '\u0001';
      kept++;
    }
    if (names === undefined || values === undefined) return undefined;
    let extra = this.cache.get(id);
    if (extra === undefined) {
      const attrs: Attributes = {};
      for (let i = 0; i < names.length; i++) attrs[names[i]] = values[i];
      extra = { key: id, attrs: Object.freeze(attrs) };
      this.cache.set(id, extra);
    }
    return extra;
  }
}
