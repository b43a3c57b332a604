import { parseArgs } from 'node:util';
import { filterPattern, SORT_KEYS, type SortKey } from './rows.js';
import { targetUrl } from './targets.js';

// The command line of `meterline top`, read with node:util parseArgs; a bad value fails naming the flag.

export const TOP_USAGE = `Usage: meterline top [options] <url>...

Live per-route RED (rate, errors, duration) from Prometheus text endpoints.
A URL may be host:port (then /metrics) or a full URL.

Options:
  -i, --interval <s>        seconds between scrapes (default 2)
      --once                two scrapes an interval apart, print the table as plain text, exit
  -s, --sort <key>          rate | errors | p50 | p95 | p99 | bytes | route (default rate)
  -r, --reverse             reverse the sort
  -f, --filter <text>       routes containing text, or /regex/ (METHOD and route, or the target)
  -H, --header <k: v>       request header for every scrape, e.g. "Authorization: Bearer ..." (repeatable)
      --timeout <ms>        scrape timeout (default 5000, at most the interval)
      --p95 <s>             mark a p95 above this many seconds (default 0.5)
      --errors <percent>    mark an error ratio above this percent (default 5)
      --no-color            no colour (also NO_COLOR=1)
  -h, --help                this help

Keys (live): s next sort, 1-7 sort by column, r reverse, / filter (Enter keeps, Esc clears), q quit.
Exit status with --once: 0, or 1 if a target could not be scraped.`;

export interface TopOptions {
  urls: URL[];
  intervalSeconds: number;
  once: boolean;
  sort: SortKey;
  reverse: boolean;
  filter: string;
  headers: Record<string, string>;
  timeoutMs: number;
  p95Breach: number;
  errorBreach: number;
  color: boolean;
  help: boolean;
}

export class UsageError extends Error {}

function number(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`--${flag}: expected a number from ${min} to ${max}, got "${text}"`);
  }
  return v;
}

export function parseTopArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TopOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        interval: { type: 'string', short: 'i' },
        once: { type: 'boolean' },
        sort: { type: 'string', short: 's' },
        reverse: { type: 'boolean', short: 'r' },
        filter: { type: 'string', short: 'f' },
        header: { type: 'string', short: 'H', multiple: true },
        timeout: { type: 'string' },
        p95: { type: 'string' },
        errors: { type: 'string' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const help = v.help === true;
  if (!help && parsed.positionals.length === 0) throw new UsageError('give at least one URL to scrape');
  const urls = parsed.positionals.map((p) => {
    try {
      return targetUrl(p);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const intervalSeconds = number('interval', v.interval, 2, 0.2, 3600);
  const sort = (v.sort ?? 'rate') as SortKey;
  if (!SORT_KEYS.includes(sort))
    throw new UsageError(`--sort: expected one of ${SORT_KEYS.join(', ')}, got "${v.sort}"`);
  try {
    filterPattern(v.filter ?? '');
  } catch (err) {
    throw new UsageError(`--filter: ${(err as Error).message}`);
  }
  const headers: Record<string, string> = {};
  for (const h of v.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header: expected "Name: value", got "${h}"`);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const timeoutMs = number('timeout', v.timeout, Math.min(5000, intervalSeconds * 1000), 50, 600_000);
  return {
    urls,
    intervalSeconds,
    once: v.once === true,
    sort,
    reverse: v.reverse === true,
    filter: v.filter ?? '',
    headers,
    timeoutMs: Math.min(timeoutMs, intervalSeconds * 1000),
    p95Breach: number('p95', v.p95, 0.5, 0, 3600),
    errorBreach: number('errors', v.errors, 5, 0, 100) / 100,
    color: v['no-color'] !== true && (env.NO_COLOR === undefined || env.NO_COLOR === ''),
    help,
  };
}
