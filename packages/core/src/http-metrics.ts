import { KNOWN_METHODS, OTHER_METHOD } from './constants.js';
import { defineMetrics } from './metric-definition.js';

// The HTTP and network metrics meterline records, as data: OpenTelemetry names, units, descriptions, buckets.

/** Semantic-convention bucket advice for `http.server.request.duration` (seconds). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** express-prom-bundle's default buckets of `http_request_duration_seconds` (seconds). */
export const EXPRESS_PROM_BUNDLE_BUCKETS: readonly number[] = Object.freeze([0.003, 0.03, 0.1, 0.3, 1.5, 10]);

/** prom-client's default histogram buckets (seconds): what fastify-metrics and hand-written histograms get. */
export const PROM_CLIENT_DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Buckets for request/response body sizes (bytes): powers of 4 from 0 to 64 MiB. */
export const DEFAULT_SIZE_BUCKETS: readonly number[] = Object.freeze([
  0, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
]);

/** Buckets for `network.server.connection.duration` (seconds). */
export const DEFAULT_CONNECTION_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
]);

export const HTTP_METRICS = defineMetrics({
  duration: ['http.server.request.duration', 's', 'Duration of HTTP server requests.'],
  activeRequests: ['http.server.active_requests', '{request}', 'Number of active HTTP server requests.'],
  requestSize: ['http.server.request.body.size', 'By', 'Size of HTTP server request bodies.'],
  responseSize: ['http.server.response.body.size', 'By', 'Size of HTTP server response bodies.'],
  networkIo: ['network.server.io', 'By', 'Bytes received and sent on server connections.'],
  activeConnections: [
    'network.server.active_connections',
    '{connection}',
    'Number of open server connections.',
  ],
  connectionDuration: ['network.server.connection.duration', 's', 'Duration of server connections.'],
  timeToFirstByte: [
    'http.server.request.time_to_first_byte',
    's',
    'Time from the start of HTTP server requests to their response head being written.',
  ],
  upgrades: [
    'meterline.http.server.upgrades',
    '{request}',
    'Requests that switched protocols (101) or tunnelled (CONNECT): not in the request duration.',
  ],
  cardinalityOverflow: [
    'meterline.cardinality.overflow',
    '{request}',
    'Requests whose attribute value was folded into an overflow value by the cardinality guard.',
  ],
});

/** Index of each known method; anything else maps to OTHER_INDEX (`_OTHER`). */
export const METHOD_INDEX: Record<string, number> = Object.create(null);
KNOWN_METHODS.forEach((m, i) => (METHOD_INDEX[m] = i));
export const OTHER_INDEX = KNOWN_METHODS.length;
export const METHOD_NAMES: readonly string[] = [...KNOWN_METHODS, OTHER_METHOD];
/** `url.scheme` values by index. */
export const SCHEMES = ['http', 'https'] as const;
/** `network.protocol.version` values by index; index 3 means "unknown" (attribute omitted). */
export const PROTOCOL_INDEX: Record<string, number> = Object.assign(Object.create(null), {
  '1.0': 0,
  '1.1': 1,
  '2.0': 2,
});
export const PROTOCOLS = ['1.0', '1.1', '2', undefined] as const;
