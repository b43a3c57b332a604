import logUpdate from 'log-update';
import { emitKeypressEvents } from 'node:readline';
import type { TopOptions } from './args.js';
import type { TargetSnapshot } from './families.js';
import { renderFrame, type TargetView } from './render.js';
import {
  routeRows,
  rowFilter,
  SORT_KEYS,
  sortRows,
  targetSummary,
  type RouteRow,
  type SortKey,
} from './rows.js';
import { scrapeTarget, targetName } from './targets.js';

// `meterline top`: scrape every target each interval, keep the last two snapshots of each, and show the rows of
// the latest pair; live in a terminal (redrawn with log-update, keys through readline) or once as plain text.

interface Target {
  url: URL;
  name: string;
  prev?: TargetSnapshot;
  cur?: TargetSnapshot;
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function scrapeAll(targets: Target[], options: TopOptions): Promise<void> {
  await Promise.all(
    targets.map(async (t) => {
      const result = await scrapeTarget(t.url, options.headers, options.timeoutMs);
      if (result.ok) {
        t.prev = t.cur;
        t.cur = result.snapshot;
        t.error = undefined;
      } else {
        t.error = result.error;
      }
    }),
  );
}

/** Views and rows of the latest pair of scrapes of each target. */
function collect(targets: Target[]): { views: TargetView[]; rows: RouteRow[] } {
  const views: TargetView[] = [];
  const rows: RouteRow[] = [];
  for (const t of targets) {
    const view: TargetView = { name: t.name, error: t.error, family: t.cur?.family?.name };
    if (t.error === undefined && t.prev !== undefined && t.cur !== undefined) {
      const own = routeRows(t.name, t.prev, t.cur);
      view.summary = targetSummary(t.name, own, t.prev, t.cur);
      rows.push(...own);
    }
    views.push(view);
  }
  return { views, rows };
}

interface ViewState {
  sort: SortKey;
  reverse: boolean;
  filter: string;
  editingFilter?: string;
}

function frame(
  options: TopOptions,
  state: ViewState,
  views: TargetView[],
  rows: RouteRow[],
  live: boolean,
): string {
  const shown = sortRows(
    rows.filter(rowFilter(state.editingFilter ?? state.filter)),
    state.sort,
    state.reverse,
  );
  return renderFrame({
    targets: views,
    rows: shown,
    sort: state.sort,
    reverse: state.reverse,
    filter: state.filter,
    editingFilter: state.editingFilter,
    intervalSeconds: options.intervalSeconds,
    // plain output (--once, a pipe) is for logs: routes are never cut there
    width: live ? (process.stdout.columns ?? 80) : 400,
    height: live ? (process.stdout.rows ?? 24) : undefined,
    color: live && options.color,
    live,
    p95Breach: options.p95Breach,
    errorBreach: options.errorBreach,
  });
}

/** `--once`: two scrapes an interval apart, one plain table on stdout. Resolves to the exit status. */
export async function topOnce(options: TopOptions): Promise<number> {
  const targets: Target[] = options.urls.map((url) => ({ url, name: targetName(url) }));
  await scrapeAll(targets, options);
  await sleep(options.intervalSeconds * 1000);
  await scrapeAll(targets, options);
  const { views, rows } = collect(targets);
  const state: ViewState = { sort: options.sort, reverse: options.reverse, filter: options.filter };
  process.stdout.write(frame(options, state, views, rows, false) + '\n');
  const down = targets.filter((t) => t.error !== undefined);
  for (const t of down) process.stderr.write(`meterline top: ${t.name}: ${t.error}\n`);
  return down.length > 0 ? 1 : 0;
}

/** Live view until q or Ctrl-C. */
export async function topLive(options: TopOptions): Promise<number> {
  const targets: Target[] = options.urls.map((url) => ({ url, name: targetName(url) }));
  const state: ViewState = { sort: options.sort, reverse: options.reverse, filter: options.filter };
  const tty = process.stdout.isTTY === true;
  let latest = collect(targets);
  const draw = () => {
    const text = frame(options, state, latest.views, latest.rows, tty);
    if (tty) logUpdate(text);
    else process.stdout.write(text + '\n\n');
  };
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  const input = process.stdin;
  const onKey = (str: string | undefined, key: { name?: string; ctrl?: boolean; sequence?: string } = {}) => {
    if (key.ctrl === true && key.name === 'c') return stop();
    if (state.editingFilter !== undefined) {
      if (key.name === 'return' || key.name === 'enter') {
        state.filter = state.editingFilter;
        state.editingFilter = undefined;
      } else if (key.name === 'escape') {
        state.filter = '';
        state.editingFilter = undefined;
      } else if (key.name === 'backspace') {
        state.editingFilter = state.editingFilter.slice(0, -1);
      } else if (str !== undefined && str.length === 1 && str >= ' ') {
        state.editingFilter += str;
      }
      return draw();
    }
    if (str === 'q') return stop();
    if (str === 's') state.sort = SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length];
    else if (str !== undefined && /^[1-7]$/.test(str)) state.sort = SORT_KEYS[Number(str) - 1];
    else if (str === 'r') state.reverse = !state.reverse;
    else if (str === '/') state.editingFilter = '';
    else if (key.name === 'escape') state.filter = '';
    else return;
    draw();
  };
  if (input.isTTY === true) {
    emitKeypressEvents(input);
    input.setRawMode(true);
    input.on('keypress', onKey);
    input.resume();
  }
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.on('resize', draw);
  try {
    draw();
    while (!stopped) {
      const started = Date.now();
      await scrapeAll(targets, options);
      latest = collect(targets);
      if (stopped) break;
      draw();
      const left = options.intervalSeconds * 1000 - (Date.now() - started);
      if (left > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    if (input.isTTY === true) {
      input.setRawMode(false);
      input.off('keypress', onKey);
      input.pause();
    }
    process.stdout.off('resize', draw);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (tty) logUpdate.done();
  }
  return 0;
}
