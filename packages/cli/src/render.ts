import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { DASH, formatBytes, formatLatency, formatPercent, formatRate } from './format.js';
import type { RouteRow, SortKey, TargetSummary } from './rows.js';

// One frame of `meterline top` as text: a header line, one line per target, the route table fitted to the
// terminal's width (columns dropped, routes cut, least useful first) and height.

export interface TargetView {
  name: string;
  /** why the last scrape failed (the target is shown as down) */
  error?: string;
  /** which metric names it exports (undefined: none `top` knows) */
  family?: string;
  /** undefined until two scrapes succeeded */
  summary?: TargetSummary;
}

export interface Frame {
  targets: TargetView[];
  rows: RouteRow[];
  sort: SortKey;
  reverse: boolean;
  filter: string;
  intervalSeconds: number;
  /** terminal columns */
  width: number;
  /** terminal rows (undefined: print every row) */
  height?: number;
  color: boolean;
  /** live mode: key help and the filter being typed */
  live: boolean;
  editingFilter?: string;
  /** p95 above this (s) and an error ratio above this are marked */
  p95Breach: number;
  errorBreach: number;
}

interface Column {
  key: 'target' | 'method' | 'route' | 'rate' | 'errors' | 'p50' | 'p95' | 'p99' | 'bytes';
  head: string;
  width: number;
  /** dropped first when the terminal is narrow: lowest first; 0 = never */
  drop: number;
  align: 'left' | 'right';
}

const NUMBER_COLUMNS: Column[] = [
  { key: 'rate', head: 'REQ/S', width: 9, drop: 0, align: 'right' },
  { key: 'errors', head: 'ERR%', width: 8, drop: 7, align: 'right' },
  { key: 'p50', head: 'P50', width: 9, drop: 2, align: 'right' },
  { key: 'p95', head: 'P95', width: 9, drop: 5, align: 'right' },
  { key: 'p99', head: 'P99', width: 9, drop: 3, align: 'right' },
  { key: 'bytes', head: 'BYTES/S', width: 10, drop: 1, align: 'right' },
];
const ROUTE_MIN = 12;

/** The columns that fit in `width`, with the route column taking what is left. */
export function layout(width: number, rows: readonly RouteRow[], manyTargets: boolean): Column[] {
  const longest = (f: (r: RouteRow) => string, head: string) =>
    Math.max(head.length, ...rows.map((r) => f(r).length)) + 2;
  const cols: Column[] = [];
  if (manyTargets)
    cols.push({
      key: 'target',
      head: 'TARGET',
      width: Math.min(
        24,
        longest((r) => r.target, 'TARGET'),
      ),
      drop: 6,
      align: 'left',
    });
  cols.push({
    key: 'method',
    head: 'METHOD',
    width: Math.min(
      9,
      longest((r) => r.method, 'METHOD'),
    ),
    drop: 4,
    align: 'left',
  });
  cols.push({ key: 'route', head: 'ROUTE', width: ROUTE_MIN, drop: 0, align: 'left' });
  cols.push(...NUMBER_COLUMNS);
  const total = () => cols.reduce((n, c) => n + c.width, 0);
  while (total() > width) {
    const victim = cols.filter((c) => c.drop > 0).sort((a, b) => a.drop - b.drop)[0];
    if (victim === undefined) break;
    cols.splice(cols.indexOf(victim), 1);
  }
  const route = cols.find((c) => c.key === 'route') as Column;
  const wanted = longest((r) => r.route, 'ROUTE');
  route.width = Math.max(ROUTE_MIN, Math.min(wanted, ROUTE_MIN + Math.max(0, width - total())));
  return cols;
}

const SORT_HEAD: Record<SortKey, Column['key']> = {
  rate: 'rate',
  errors: 'errors',
  p50: 'p50',
  p95: 'p95',
  p99: 'p99',
  bytes: 'bytes',
  route: 'route',
};

function cell(r: RouteRow, key: Column['key'], f: Frame, c: ChalkInstance): string {
  switch (key) {
    case 'target':
      return r.target;
    case 'method':
      return r.method || DASH;
    case 'route':
      return r.route;
    case 'rate':
      return formatRate(r.rate);
    case 'errors': {
      const text = formatPercent(r.errorRatio);
      return r.errorRatio > f.errorBreach ? c.red.bold(text) : text;
    }
    case 'p50':
      return formatLatency(r.p50);
    case 'p95': {
      const text = formatLatency(r.p95);
      return r.p95 > f.p95Breach ? c.yellow.bold(text) : text;
    }
    case 'p99':
      return formatLatency(r.p99);
    case 'bytes':
      return formatBytes(r.bytesRate);
  }
}

/** Cut a plain line to `width` columns. */
const fit = (line: string, width: number) =>
  line.length > width ? line.slice(0, Math.max(0, width - 1)) + '…' : line;

function targetLine(t: TargetView, c: ChalkInstance): string {
  if (t.error !== undefined) return `${c.red.bold('DOWN')} ${t.name}  ${t.error}`;
  if (t.family === undefined && t.summary !== undefined)
    return `${c.yellow('UP')}   ${t.name}  no HTTP request metrics found`;
  if (t.summary === undefined) return `${c.green('UP')}   ${t.name}  waiting for a second scrape`;
  const s = t.summary;
  const err = formatPercent(s.errorRatio);
  const parts = [
    `${formatRate(s.rate)} req/s`,
    `err ${err}`,
    `in-flight ${s.inFlight === undefined ? DASH : String(s.inFlight)}`,
    `net ${formatBytes(s.networkRate)}/s`,
    t.family ?? '',
  ];
  return `${c.green('UP')}   ${t.name}  ${parts.filter((p) => p !== '').join('  ')}`;
}

export function renderFrame(f: Frame): string {
  const c = new Chalk({ level: f.color ? 1 : 0 });
  const width = Math.max(20, f.width);
  const lines: string[] = [];
  const filter = f.editingFilter !== undefined ? `/${f.editingFilter}_` : f.filter === '' ? 'none' : f.filter;
  lines.push(
    fit(
      `meterline top  ${f.targets.length} target${f.targets.length === 1 ? '' : 's'}  every ${f.intervalSeconds}s  ` +
        `sort ${f.sort}${f.reverse ? ' (reversed)' : ''}  filter ${filter}`,
      width,
    ),
  );
  for (const t of f.targets) {
    const line = targetLine(t, c);
    // colour codes do not take columns: cut the plain text, then colour again
    const plain = targetLine(t, new Chalk({ level: 0 }));
    lines.push(plain.length > width ? fit(plain, width) : line);
  }
  const cols = layout(width, f.rows, f.targets.length > 1);
  const sortCol = SORT_HEAD[f.sort];
  const table = new Table({
    head: cols.map((col) => (col.key === sortCol ? col.head + (f.reverse ? '↑' : '↓') : col.head)),
    colWidths: cols.map((col) => col.width),
    colAligns: cols.map((col) => col.align),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
    style: {
      head: f.color ? ['bold', 'inverse'] : [],
      border: [],
      compact: true,
      'padding-left': 0,
      'padding-right': 1,
    },
    wordWrap: false,
    truncate: '…',
  });
  const footer: string[] = [];
  let rows = f.rows;
  if (f.height !== undefined) {
    const room = Math.max(1, f.height - lines.length - 2 - (f.live ? 1 : 0));
    if (rows.length > room) {
      footer.push(
        `… ${rows.length - room + 1} more route${rows.length - room + 1 === 1 ? '' : 's'} (filter with /)`,
      );
      rows = rows.slice(0, room - 1);
    }
  }
  for (const r of rows) table.push(cols.map((col) => cell(r, col.key, f, c)));
  lines.push('');
  const tableText = table
    .toString()
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''));
  lines.push(...tableText);
  if (f.rows.length === 0) lines.push(f.filter === '' ? '(no routes yet)' : `(no route matches ${f.filter})`);
  lines.push(...footer);
  if (f.live)
    lines.push(c.dim(fit('keys: s next sort  1-7 sort by column  r reverse  / filter  q quit', width)));
  return lines.join('\n');
}
