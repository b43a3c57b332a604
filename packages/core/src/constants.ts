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

/** The attributes of the request metrics (a user attribute may not override one). */
export const REQUEST_ATTRIBUTES: readonly string[] = Object.freeze([
  ATTR_METHOD,
  ATTR_ROUTE,
  ATTR_STATUS,
  ATTR_SCHEME,
  ATTR_PROTOCOL_VERSION,
  ATTR_ERROR_TYPE,
]);
