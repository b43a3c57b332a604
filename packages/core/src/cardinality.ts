import { ATTR_ERROR_TYPE, ATTR_ROUTE, OTHER_METHOD, ROUTE_OVERFLOW } from './constants.js';
import { RouteKey } from './series.js';

// The cardinality guard: every cap on distinct attribute values, what an overflow folds into, and the counts
// behind `meterline_cardinality_overflow_total{attribute}`. Nothing a client sends can create a series past these.

/** Requests folded by each cap, exported as `meterline.cardinality.overflow{attribute}`. */
export class OverflowCounts {
  route = 0;
  errorType = 0;
  /** values of the `attributes` option's keys */
  attributes = 0;
}

/** The `attribute` label value of each overflow count. */
export const OVERFLOW_LABELS = Object.freeze({
  route: ATTR_ROUTE,
  errorType: ATTR_ERROR_TYPE,
  attributes: 'attributes',
});

/**
 * Interns `http.route` values. Past `max` distinct templates every new one folds into `http.route="__overflow__"`
 * (warned once): a bug that puts raw paths into templates cannot grow memory or series.
 */
export class RouteCap {
  private readonly routes = new Map<string, RouteKey>();
  readonly noRoute = new RouteKey(undefined);
  readonly overflowRoute = new RouteKey(ROUTE_OVERFLOW);
  private warned = false;
  constructor(readonly max: number) {}

  route(template: string | undefined): RouteKey {
    if (template === undefined) return this.noRoute;
    let key = this.routes.get(template);
    if (key !== undefined) return key;
    if (this.routes.size >= this.max) {
      if (!this.warned) {
        this.warned = true;
        process.emitWarning(
          `meterline: more than ${this.max} distinct http.route values; further routes are recorded as ` +
            `http.route="${ROUTE_OVERFLOW}" (raise maxRoutes if this service really has that many routes)`,
          { code: 'METERLINE_CARDINALITY' },
        );
      }
      return this.overflowRoute;
    }
    key = new RouteKey(template);
    this.routes.set(template, key);
    return key;
  }
}

/** `error.type` values: the value itself, or `_OTHER` once `max` distinct ones have been seen. */
export class ErrorTypeCap {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max: number,
    private readonly counts: OverflowCounts,
  ) {}

  cap(errorType: string): string {
    if (this.seen.has(errorType)) return errorType;
    if (this.seen.size >= this.max) {
      this.counts.errorType++;
      return OTHER_METHOD;
    }
    this.seen.add(errorType);
    return errorType;
  }
}

/** Values of one user attribute key: at most `max` distinct ones, later ones fold into `__overflow__`. */
export class AttributeValueCap {
  private readonly seen = new Map<string, Set<string>>();
  constructor(
    private readonly max: number,
    private readonly counts: OverflowCounts,
  ) {}

  cap(key: string, value: string | number | boolean): string | number | boolean {
    let seen = this.seen.get(key);
    if (seen === undefined) this.seen.set(key, (seen = new Set()));
    const text = String(value);
    if (seen.has(text)) return value;
    if (seen.size >= this.max) {
      this.counts.attributes++;
      return ROUTE_OVERFLOW;
    }
    seen.add(text);
    return value;
  }
}
