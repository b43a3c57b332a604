/**
 * The conformance scenarios as data: what a client sends, what it must get back, and how the scrape must change.
 * scenario-runner.ts runs every entry against every adapter's app (apps/*.ts). Where a framework truly answers
 * otherwise, the entry names a key of `Differences` instead of a value.
 */
import type { Labels } from '@meterline/testing';
import { ACTIVE, CHUNKS, COMPRESSED, DURATION, FIXED_BODY, REQ_SIZE, RES_SIZE, type Differences } from './conformance-app.js';

/** A value the app declares in its `Differences`. */
export interface Declared<K extends keyof Differences> {
  declared: K;
}
export type Status = number | Declared<'optionsStatus' | 'unknownMethodStatus'>;

/**
 * How the client sends a step: `request` (the default, the response read to the end), `keep-alive` (`times`
 * requests one after another on one socket, then the socket closed), or a client going away: before any response,
 * after the response headers, or in the middle of the request body.
 */
export type Client = 'request' | 'keep-alive' | 'abort-before-response' | 'abort-after-headers' | 'abort-mid-body';

/** What the response must be. */
export interface Answer {
  status: Status;
  /** the body, exactly */
  body?: string;
  /** the body's length in bytes (as sent: compressed bodies are not decoded) */
  bodyBytes?: number;
  /** a text the body must not contain */
  bodyExcludes?: string;
  /** the Allow header */
  allow?: string;
  /** response headers, exactly; null = absent */
  headers?: Record<string, string | null>;
}

export interface Step {
  client?: Client;
  method?: string;
  /** `{i}` stands for the repetition (0 to times-1), `{random}` for a fresh random string */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** how many times to send it (default 1) */
  times?: number;
  /** send all `times` at once and keep them in flight while the scenario's `during` expectations are checked */
  concurrent?: boolean;
  /** what each response must be (abort-after-headers: the status line seen before leaving) */
  answer?: Answer;
}

/** A number exactly, or a bound. */
export type Amount = number | { atLeast: number } | { above: number };

/** An HTTP server series: error.type follows the status (5xx: the status code) unless `error` says otherwise. */
export interface SeriesRef {
  method: string;
  route?: string | Declared<'optionsRoute'>;
  /** omitted: no status (the client left before any response) */
  status?: Status;
  /**
   * `aborted`; an exception class thrown in the handler (see Differences.thrownErrorType); or an error.type as
   * it must be, whatever the framework
   */
  error?: 'aborted' | { thrown: string } | { type: string };
}

/**
 * One expectation on a metric. Deltas between the scrape before the steps and the one after: `count`, `sum`,
 * `buckets` (histograms), `increase` (counters), `total` (`_count` summed over the series whose labels include
 * `matching`). Absolute, on the scrape after: `value` (gauges) and `every` (each sample of the metric).
 */
export interface Expectation {
  metric: string;
  /** the series by its HTTP labels */
  series?: SeriesRef;
  /** or by its exact labels; the value `{port}` stands for the app's port */
  labels?: Labels;
  /** or every series whose labels include these */
  matching?: Labels;
  count?: Amount;
  sum?: Amount;
  buckets?: Record<string, Amount>;
  increase?: Amount;
  total?: Amount;
  value?: Amount;
  every?: number;
}

export interface Scenario {
  name: string;
  /** run only against apps whose declared differences (defaults included) are these */
  when?: Partial<Differences>;
  steps: Step[];
  /** checked while the concurrent steps are in flight */
  during?: Expectation[];
  /**
   * checked once everything is answered. Beyond these, no series of the request duration may change: a request
   * the scenario does not name is one recorded where it should not be.
   */
  expect: Expectation[];
  /** once `expect` holds, wait this long and check it again (a handler that finishes after its client left) */
  settleMs?: number;
  /** texts the scrape must (not) contain */
  scrapeIncludes?: Array<string | RegExp>;
  scrapeExcludes?: Array<string | RegExp>;
  /** the scrape passes `promtool check metrics` */
  promtool?: boolean;
}

const OK = { status: 200 };
const NET = { network_transport: 'tcp', server_port: '{port}' };
const ECHO_HEADERS = { 'content-type': 'application/octet-stream' };

export const SCENARIOS: Scenario[] = [
  {
    name: 'static and parameterised routes carry the template',
    steps: [
      { path: '/static', answer: OK },
      { path: '/items/{i}', times: 2, answer: OK },
    ],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/static', status: 200 }, count: 1 },
      { metric: DURATION, series: { method: 'GET', route: '/items/:id', status: 200 }, count: 2 },
    ],
    scrapeExcludes: [/http_route="\/items\/\d/],
  },
  {
    name: 'nested routers / prefixes / params in mount paths',
    steps: [
      { path: '/api/v1/orgs/acme/repos/web', answer: OK },
      { path: '/api/v1/orgs/globex/repos/api', answer: OK },
      { path: '/api/v1/orgs/acme', answer: OK },
    ],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/api/v1/orgs/:org/repos/:repo', status: 200 }, count: 2 },
      { metric: DURATION, series: { method: 'GET', route: '/api/v1/orgs/:org', status: 200 }, count: 1 },
    ],
    scrapeExcludes: ['acme', 'globex'],
  },
  {
    name: 'unmatched paths have no http.route and add no series',
    steps: [{ path: '/nope/{i}/{random}', times: 200, answer: { status: 404 } }],
    expect: [{ metric: DURATION, series: { method: 'GET', status: 404 }, count: 200 }],
    scrapeExcludes: ['/nope/'],
  },
  {
    name: 'unknown methods become _OTHER',
    steps: [{ method: 'PURGE', path: '/static', answer: { status: { declared: 'unknownMethodStatus' } } }],
    expect: [{ metric: DURATION, series: { method: '_OTHER', status: { declared: 'unknownMethodStatus' } }, count: 1 }],
  },
  {
    name: 'HEAD and OPTIONS',
    steps: [
      { method: 'HEAD', path: '/static', answer: { status: 200, bodyBytes: 0 } },
      { method: 'OPTIONS', path: '/static', answer: { status: { declared: 'optionsStatus' } } },
    ],
    expect: [
      { metric: DURATION, series: { method: 'HEAD', route: '/static', status: 200 }, count: 1 },
      { metric: RES_SIZE, series: { method: 'HEAD', route: '/static', status: 200 }, count: 1, sum: 0 },
      {
        metric: DURATION,
        series: { method: 'OPTIONS', route: { declared: 'optionsRoute' }, status: { declared: 'optionsStatus' } },
        count: 1,
      },
    ],
  },
  {
    name: '2xx, 3xx, 4xx and 5xx: error.type only for server errors',
    steps: [201, 302, 400, 404, 503].map((code) => ({ path: `/status/${code}`, answer: { status: code } })),
    expect: [201, 302, 400, 404, 503].map((code) => ({
      metric: DURATION,
      series: { method: 'GET', route: '/status/:code', status: code },
      count: 1,
    })),
  },
  {
    name: 'thrown sync and async errors: 500 with error.type = the exception class',
    steps: [
      { path: '/throw-sync', answer: { status: 500 } },
      { path: '/throw-async', times: 2, answer: { status: 500 } },
    ],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/throw-sync', status: 500, error: { thrown: 'TypeError' } }, count: 1 },
      {
        metric: DURATION,
        series: { method: 'GET', route: '/throw-async', status: 500, error: { thrown: 'ConformanceError' } },
        count: 2,
      },
    ],
  },
  {
    name: 'a client abort before the response: counted once, error.type=aborted, no status',
    steps: [{ client: 'abort-before-response', path: '/slow' }],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/slow', error: 'aborted' }, count: 1 },
      { metric: ACTIVE, every: 0 },
    ],
    // the handler answers 300 ms later, to no one: still counted once
    settleMs: 400,
  },
  {
    name: 'a client abort after the headers: counted once, error.type=aborted, with the status',
    steps: [{ client: 'abort-after-headers', path: '/stream-slow', answer: { status: 200 } }],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/stream-slow', status: 200, error: 'aborted' }, count: 1 },
      { metric: ACTIVE, every: 0 },
    ],
    settleMs: 400,
  },
  {
    name: 'a client abort in the middle of the request body: counted once, error.type=aborted',
    steps: [{ client: 'abort-mid-body', method: 'POST', path: '/echo' }],
    // where the body is read before routing (a global body parser), the route is not known yet: any POST series
    expect: [
      { metric: DURATION, matching: { http_request_method: 'POST', error_type: 'aborted' }, total: 1 },
      { metric: ACTIVE, every: 0 },
    ],
    settleMs: 100,
  },
  {
    name: 'request and response bodies of known sizes: fixed, chunked, compressed',
    steps: [
      { method: 'POST', path: '/echo', body: Buffer.alloc(4321, 7), headers: ECHO_HEADERS, answer: { status: 200, bodyBytes: 4321 } },
      { method: 'POST', path: '/echo', body: Buffer.alloc(7, 1), headers: ECHO_HEADERS, answer: { status: 200, bodyBytes: 7 } },
      { path: '/fixed', answer: { status: 200, body: FIXED_BODY } },
      { path: '/chunked', answer: { status: 200, body: CHUNKS.join('') } },
      {
        path: '/compressed',
        headers: { 'accept-encoding': 'gzip' },
        answer: { status: 200, bodyBytes: COMPRESSED.length, headers: { 'content-encoding': 'gzip' } },
      },
    ],
    expect: [
      {
        metric: REQ_SIZE,
        series: { method: 'POST', route: '/echo', status: 200 },
        count: 2,
        sum: 4328,
        buckets: { '0': 0, '64': 1, '4096': 1, '16384': 2 },
      },
      { metric: RES_SIZE, series: { method: 'POST', route: '/echo', status: 200 }, sum: 4328 },
      { metric: DURATION, series: { method: 'POST', route: '/echo', status: 200 }, count: 2 },
      { metric: RES_SIZE, series: { method: 'GET', route: '/fixed', status: 200 }, sum: 1000, buckets: { '256': 0, '1024': 1 } },
      { metric: DURATION, series: { method: 'GET', route: '/fixed', status: 200 }, count: 1 },
      { metric: RES_SIZE, series: { method: 'GET', route: '/chunked', status: 200 }, sum: 1000 },
      { metric: DURATION, series: { method: 'GET', route: '/chunked', status: 200 }, count: 1 },
      { metric: RES_SIZE, series: { method: 'GET', route: '/compressed', status: 200 }, sum: COMPRESSED.length },
      { metric: DURATION, series: { method: 'GET', route: '/compressed', status: 200 }, count: 1 },
      // the bodies came in over the app's port
      { metric: 'network_server_io_bytes_total', labels: { ...NET, network_io_direction: 'receive' }, increase: { atLeast: 4328 } },
    ],
  },
  {
    name: 'keep-alive: many requests on one socket, bytes and connections counted',
    steps: [{ client: 'keep-alive', path: '/fixed', times: 25, answer: { status: 200, bodyBytes: 1000 } }],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/fixed', status: 200 }, count: 25 },
      { metric: 'network_server_connection_duration_seconds', labels: NET, count: { atLeast: 1 } },
      { metric: 'network_server_io_bytes_total', labels: { ...NET, network_io_direction: 'transmit' }, increase: { above: 25 * 1000 } },
      { metric: 'network_server_io_bytes_total', labels: { ...NET, network_io_direction: 'receive' }, increase: { above: 25 * 20 } },
      // the scrapes' own connection is open
      { metric: 'network_server_active_connections', labels: NET, value: { atLeast: 1 } },
    ],
  },
  {
    name: 'concurrent slow requests: in-flight visible during, zero after',
    steps: [{ path: '/slow', times: 5, concurrent: true, answer: OK }],
    during: [{ metric: ACTIVE, labels: { http_request_method: 'GET', url_scheme: 'http' }, value: 5 }],
    expect: [
      { metric: DURATION, series: { method: 'GET', route: '/slow', status: 200 }, count: 5 },
      { metric: ACTIVE, every: 0 },
    ],
  },
  {
    name: 'excluded routes are not recorded, /metrics does not measure itself',
    steps: [{ path: '/health', answer: OK }],
    expect: [{ metric: DURATION, matching: { http_route: '/health' }, total: 0 }],
    scrapeExcludes: ['/metrics', '/health'],
  },
  {
    name: 'the endpoint: 0.0.4 text, gzip when accepted, HEAD, unmeasured',
    steps: [
      {
        path: '/metrics',
        headers: { 'accept-encoding': 'identity' },
        answer: { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-encoding': null } },
      },
      { path: '/metrics', headers: { 'accept-encoding': 'gzip' }, answer: { status: 200, headers: { 'content-encoding': 'gzip' } } },
      { method: 'HEAD', path: '/metrics', answer: { status: 200, bodyBytes: 0 } },
    ],
    expect: [],
  },
  {
    name: 'other methods on the metrics path: 405 with Allow, unmeasured',
    when: { metricsPostStatus: 405 },
    steps: [{ method: 'POST', path: '/metrics', answer: { status: 405, allow: 'GET, HEAD', bodyExcludes: 'http_server' } }],
    expect: [],
  },
  {
    name: "other methods on the metrics path: the framework's 404, recorded as any unmatched request",
    when: { metricsPostStatus: 404 },
    steps: [{ method: 'POST', path: '/metrics', answer: { status: 404, bodyExcludes: 'http_server' } }],
    expect: [{ metric: DURATION, series: { method: 'POST', status: 404 }, count: 1 }],
  },
  {
    name: 'passes promtool check metrics, one HELP/TYPE block per family, semantic-convention buckets',
    steps: [],
    expect: [],
    promtool: true,
    scrapeIncludes: [
      ...[DURATION, ACTIVE, REQ_SIZE, RES_SIZE].map((m) => `# TYPE ${m} `),
      ...['network_server_io_bytes_total', 'network_server_active_connections', 'network_server_connection_duration_seconds'].map(
        (m) => `# TYPE ${m} `,
      ),
      'le="0.005"',
      'le="10"',
    ],
  },
];
