import type { Attributes, HrTime } from '@opentelemetry/api';
import type { Socket } from 'node:net';
import { ATTR_IO_DIRECTION, ATTR_SERVER_PORT, ATTR_TRANSPORT } from './constants.js';
import { ExponentialHistogram } from './exponential-histogram.js';
import { FixedHistogram } from './histogram.js';

/** Scale and bucket cap of the native histograms kept beside the classic ones (the `nativeHistograms` option). */
export interface NativeSettings {
  scale: number;
  maxBuckets: number;
}

export function hrTimeFromMs(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** One attribute set of the three request histograms. */
export class Series {
  readonly duration: FixedHistogram;
  readonly requestSize: FixedHistogram;
  readonly responseSize: FixedHistogram;
  /** only with the `timeToFirstByte` option */
  readonly timeToFirstByte: FixedHistogram | undefined;
  readonly startTime: HrTime = hrTimeFromMs(Date.now());
  constructor(
    readonly attributes: Attributes,
    buckets: {
      durationBuckets: readonly number[];
      requestSizeBuckets: readonly number[];
      responseSizeBuckets: readonly number[];
      native?: NativeSettings;
      timeToFirstByte?: boolean;
    },
  ) {
    this.duration = new FixedHistogram(buckets.durationBuckets);
    this.timeToFirstByte =
      buckets.timeToFirstByte === true ? new FixedHistogram(buckets.durationBuckets) : undefined;
    this.requestSize = new FixedHistogram(buckets.requestSizeBuckets);
    this.responseSize = new FixedHistogram(buckets.responseSizeBuckets);
    const native = buckets.native;
    if (native !== undefined) {
      this.duration.native = new ExponentialHistogram(native.scale, native.maxBuckets);
      this.requestSize.native = new ExponentialHistogram(native.scale, native.maxBuckets);
      this.responseSize.native = new ExponentialHistogram(native.scale, native.maxBuckets);
    }
  }
}

/** An interned `http.route` value (undefined template = no matched route). Adapters may cache it. */
export class RouteKey {
  /** series by numeric key (status, method, scheme, protocol) */
  readonly byKey = new Map<number, Series>();
  /** series with user attributes, by `extra.key + errorType + ' ' + numeric key` */
  readonly byExtra = new Map<string, Series>();
  /** series with an error.type, by `errorType + ' ' + numeric key` */
  readonly byError = new Map<string, Series>();
  /** the series of the last successful request on this route: most requests repeat it, no map lookup */
  lastKey = -1;
  lastSeries: Series | undefined = undefined;
  constructor(readonly template: string | undefined) {}
}

/** Per listening port: live sockets, bytes of closed sockets, connection durations. */
export class PortGroup {
  readonly live = new Set<Socket>();
  closedRead = 0;
  closedWritten = 0;
  readonly connectionDuration: FixedHistogram;
  readonly startTime: HrTime = hrTimeFromMs(Date.now());
  readonly attributes: Attributes;
  readonly receiveAttributes: Attributes;
  readonly transmitAttributes: Attributes;
  constructor(port: number | undefined, transport: string, buckets: readonly number[]) {
    this.connectionDuration = new FixedHistogram(buckets);
    const base: Attributes = { [ATTR_TRANSPORT]: transport };
    if (port !== undefined) base[ATTR_SERVER_PORT] = port;
    this.attributes = Object.freeze(base);
    this.receiveAttributes = Object.freeze({ ...base, [ATTR_IO_DIRECTION]: 'receive' });
    this.transmitAttributes = Object.freeze({ ...base, [ATTR_IO_DIRECTION]: 'transmit' });
  }
}
