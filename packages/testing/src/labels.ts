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

/**
 * The labels of a series written `METHOD route status` (route `-`: none), the short form tables of expected
 * series use; 5xx statuses carry their code as error.type unless `extra` says otherwise.
 */
export function seriesOf(key: string, extra: Labels = {}): Labels {
  const [method, route, status] = key.split(' ');
  const code = Number(status);
  return series(method, route === '-' ? undefined : route, code, code >= 500 ? { error_type: status, ...extra } : extra);
}
