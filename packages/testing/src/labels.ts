import type { Labels } from './scrape.js';

const COMMON = { url_scheme: 'http', network_protocol_version: '1.1' };

/**
 * The exact labels of an HTTP server series as scraped over plain HTTP/1.1: `http.route` only for a matched
 * route, the status only once headers went out, `extra` for the rest (error_type, user attributes).
 */
export function series(method: string, route: string | undefined, status: number | undefined, extra: Labels = {}): Labels {
  return {
    http_request_method: method,
    ...(route === undefined ? {} : { http_route: route }),
    ...(status === undefined ? {} : { http_response_status_code: String(status) }),
    ...COMMON,
    ...extra,
  };
}
