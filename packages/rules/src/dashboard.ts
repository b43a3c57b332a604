import { resolveRuleOptions, type RuleOptions } from './rules.js';

/** A Grafana dashboard panel target (Prometheus). */
export interface DashboardTarget {
  expr: string;
  legendFormat: string;
  refId: string;
  datasource: { type: 'prometheus'; uid: string };
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  description?: string;
  datasource?: { type: 'prometheus'; uid: string };
  targets?: DashboardTarget[];
  fieldConfig?: unknown;
  options?: unknown;
  collapsed?: boolean;
  panels?: DashboardPanel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: Array<Record<string, unknown>> };
  [key: string]: unknown;
}

const DS = { type: 'prometheus' as const, uid: '${datasource}' };

/**
 * The Grafana dashboard: per-route request rate, error ratio, p50/p95/p99, status codes, in-flight requests, body
 * sizes, network bytes and connections, with job / instance / route template variables. Queries read the raw
 * metrics (not the recording rules), so the dashboard works on any Prometheus that scrapes meterline.
 * `variants.nativeHistograms`: add the latency panel over native histograms beside the classic one.
 */
export function dashboard(options: RuleOptions = {}, variants: { nativeHistograms?: boolean } = {}): Dashboard {
  const o = resolveRuleOptions(options);
  const R = o.routeLabel;
  const sel = `job=~"$job", instance=~"$instance", ${R}=~"$route"`;
  const host = `job=~"$job", instance=~"$instance"`;
  const D = 'http_server_request_duration_seconds';
  const ri = '$__rate_interval';
  const routeLegend = `{{${R}}}`;

  let id = 0;
  let y = 0;
  const panels: DashboardPanel[] = [];
  const row = (title: string) => {
    panels.push({ id: ++id, type: 'row', title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
  };
  let x = 0;
  const panel = (title: string, unit: string, description: string, targets: Array<[string, string]>, w = 12) => {
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    panels.push({
      id: ++id,
      type: 'timeseries',
      title,
      description,
      datasource: DS,
      gridPos: { h: 8, w, x, y },
      fieldConfig: {
        defaults: { unit, min: 0, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false } },
        overrides: [],
      },
      options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] }, tooltip: { mode: 'multi', sort: 'desc' } },
      targets: targets.map(([expr, legendFormat], i) => ({ expr, legendFormat, refId: String.fromCharCode(65 + i), datasource: DS })),
    });
    x += w;
  };
  const endRow = () => {
    x = 0;
    y += 8;
  };
  const quantile = (q: number, metric: string, by: string, s: string) =>
    `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket{${s}}[${ri}])))`;

  row('Requests: rate, errors, duration');
  panel('Request rate by route', 'reqps', 'Requests per second per route and method (unmatched requests have an empty route).', [
    [`sum by (${R}, http_request_method) (rate(${D}_count{${sel}}[${ri}]))`, `{{http_request_method}} ${routeLegend}`],
  ]);
  panel('Error ratio by route', 'percentunit', `Share of requests that are errors (${o.errorMatchers}). Routes without errors show no line.`, [
    [
      `sum by (${R}) (rate(${D}_count{${sel}, ${o.errorMatchers}}[${ri}])) / sum by (${R}) (rate(${D}_count{${sel}}[${ri}]))`,
      routeLegend,
    ],
  ]);
  panel('Latency p50 / p95 / p99 by route', 's', 'Request duration quantiles from the duration histogram.', [
    [quantile(0.5, D, R, sel), `p50 ${routeLegend}`],
    [quantile(0.95, D, R, sel), `p95 ${routeLegend}`],
    [quantile(0.99, D, R, sel), `p99 ${routeLegend}`],
  ]);
  if (variants.nativeHistograms === true) {
    // the same quantiles over the native histogram: one series per route, no le buckets
    const native = (q: number) => `histogram_quantile(${q}, sum by (${R}) (rate(${D}{${sel}}[${ri}])))`;
    panel('Latency p50 / p95 / p99 by route (native histograms)', 's', 'Request duration quantiles from the native histogram (needs --enable-feature=native-histograms).', [
      [native(0.5), `p50 ${routeLegend}`],
      [native(0.95), `p95 ${routeLegend}`],
      [native(0.99), `p99 ${routeLegend}`],
    ]);
  }
  panel('Responses by status code', 'reqps', 'Requests per second per HTTP status code.', [
    [`sum by (http_response_status_code) (rate(${D}_count{${sel}}[${ri}]))`, '{{http_response_status_code}}'],
  ]);
  panel('In-flight requests', 'short', 'Requests being served right now, per instance.', [
    [`sum by (instance) (http_server_active_requests{${host}})`, '{{instance}}'],
  ]);
  panel('Errors by type', 'reqps', 'Errors per second by error.type: status code for 5xx, exception class, or aborted.', [
    [`sum by (${R}, error_type) (rate(${D}_count{${sel}, error_type!=""}[${ri}]))`, `${routeLegend} {{error_type}}`],
  ]);
  endRow();

  row('Payloads');
  for (const [title, metric] of [
    ['Request body size by route', 'http_server_request_body_size_bytes'],
    ['Response body size by route', 'http_server_response_body_size_bytes'],
  ] as const) {
    panel(title, 'bytes', 'Mean and p95 body size per route.', [
      [`sum by (${R}) (rate(${metric}_sum{${sel}}[${ri}])) / sum by (${R}) (rate(${metric}_count{${sel}}[${ri}]))`, `mean ${routeLegend}`],
      [quantile(0.95, metric, R, sel), `p95 ${routeLegend}`],
    ]);
  }
  endRow();

  row('Network');
  panel('Network bytes', 'Bps', 'Bytes received and sent on server sockets (headers, bodies, keep-alive and aborted requests included).', [
    [`sum by (instance, network_io_direction) (rate(network_server_io_bytes_total{${host}}[${ri}]))`, '{{instance}} {{network_io_direction}}'],
  ], 8);
  panel('Open connections', 'short', 'Open server connections per instance.', [
    [`sum by (instance) (network_server_active_connections{${host}})`, '{{instance}}'],
  ], 8);
  panel('Connection duration', 's', 'Mean and p95 duration of closed connections.', [
    [
      `sum by (instance) (rate(network_server_connection_duration_seconds_sum{${host}}[${ri}])) / sum by (instance) (rate(network_server_connection_duration_seconds_count{${host}}[${ri}]))`,
      'mean {{instance}}',
    ],
    [quantile(0.95, 'network_server_connection_duration_seconds', 'instance', host), 'p95 {{instance}}'],
  ], 8);

  const variable = (name: string, label: string, query: string) => ({
    name,
    label,
    type: 'query',
    datasource: DS,
    query,
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
  });

  return {
    uid: 'meterline-http',
    title: 'meterline: HTTP services',
    description: 'Per-route RED metrics, payload sizes and network of services instrumented with meterline.',
    tags: ['meterline', 'http', 'red'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: '',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          regex: '',
        },
        variable('job', 'Job', 'label_values(http_server_request_duration_seconds_count, job)'),
        variable('instance', 'Instance', 'label_values(http_server_request_duration_seconds_count{job=~"$job"}, instance)'),
        variable('route', 'Route', `label_values(http_server_request_duration_seconds_count{job=~"$job", instance=~"$instance"}, ${R})`),
      ],
    },
    panels,
  };
}

/** Every PromQL query of the dashboard, for tests and tooling. */
export function dashboardQueries(d: Dashboard): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  const walk = (ps: DashboardPanel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) out.push({ panel: p.title, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}
