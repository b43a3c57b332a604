/** Semantic-convention bucket advice for `http.server.request.duration` (seconds). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** Buckets for request/response body sizes (bytes): powers of 4 from 0 to 64 MiB. */
export const DEFAULT_SIZE_BUCKETS: readonly number[] = Object.freeze([
  0, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
]);

/** Buckets for `network.server.connection.duration` (seconds). */
export const DEFAULT_CONNECTION_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
]);

/** The methods semantic conventions know; anything else is recorded as `_OTHER`. */
export const KNOWN_METHODS: readonly string[] = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'QUERY',
]);
export const OTHER_METHOD = '_OTHER';

/** Value of `http.route` for requests folded by the cardinality guard. */
export const ROUTE_OVERFLOW = '__overflow__';
/** Value of `error.type` for requests whose client went away before the response completed. */
export const ERROR_ABORTED = 'aborted';

export const SCOPE_NAME = '@meterline/core';
export const SCOPE_VERSION = '0.1.0';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// Attribute keys (OpenTelemetry HTTP semantic conventions).
export const ATTR_METHOD = 'http.request.method';
export const ATTR_ROUTE = 'http.route';
export const ATTR_STATUS = 'http.response.status_code';
export const ATTR_SCHEME = 'url.scheme';
export const ATTR_PROTOCOL_VERSION = 'network.protocol.version';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_IO_DIRECTION = 'network.io.direction';
export const ATTR_TRANSPORT = 'network.transport';
export const ATTR_SERVER_PORT = 'server.port';
