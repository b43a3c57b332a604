// The migration guides (docs/migrate-from-*.md), run: each guide's two examples (classic names, OpenTelemetry
// names) are started as they are written, a known load is sent to both, real Prometheus scrapes them, and every
// query of the guide's table is evaluated: the old dashboard query against the classic app, its replacement against
// the other, each compared with the value the load implies and with each other.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, missingBinaries, startStack, stopProcess, waitReady } from '../../scripts/stack.mjs';
import { EXPRESS_PROM_BUNDLE_BUCKETS, PROM_CLIENT_DEFAULT_BUCKETS } from '@meterline/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// inside the workspace's node_modules, so the examples resolve @meterline/* and the frameworks as an app would
const scratch = join(root, 'node_modules', '.cache', 'meterline-migration-examples');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  panel: string;
  before: string | undefined;
  classic: string | undefined;
  otel: string | undefined;
}

/** The two runnable examples and the query table of a guide. */
function readGuide(file: string): { classic: string; otel: string; rows: Row[] } {
  const text = readFileSync(join(root, 'docs', file), 'utf8');
  const blocks = [...text.matchAll(/```js example( otel)?\n([\s\S]*?)```/g)];
  const classic = blocks.find((b) => b[1] === undefined)?.[2];
  const otel = blocks.find((b) => b[1] !== undefined)?.[2];
  if (classic === undefined || otel === undefined) throw new Error(`${file}: expected two js example blocks`);
  const table = text.slice(text.indexOf('## Queries'));
  const rows: Row[] = [];
  for (const line of table.split('\n')) {
    if (!line.startsWith('| ') || /^\| Panel |^\| -/.test(line)) continue;
    // cells padded by the formatter; no query in these tables holds a `|`
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
    const query = (cell: string): string | undefined => /^`(.*)`$/.exec(cell)?.[1];
    const before = query(cells[1]);
    const classicQuery = cells[2] === 'unchanged' ? before : query(cells[2]);
    const otelQuery = cells[3] === 'unchanged' ? classicQuery : query(cells[3]);
    rows.push({ panel: cells[0], before, classic: classicQuery, otel: otelQuery });
  }
  return { classic, otel, rows };
}

/** Scope every metric selector of a query to one scrape job (both apps are in the same Prometheus). */
function scoped(query: string, job: string): string {
  // grouping labels (`by (http_route)`) are not selectors: set aside while rewriting
  const groups: string[] = [];
  const masked = query.replace(/\b(by|without) \(([^)]*)\)/g, (m) => `@@${groups.push(m) - 1}@@`);
  return masked
    .replace(/\b((?:http|process|user)_[a-zA-Z0-9_]+)(\{([^}]*)\})?/g, (_m, name: string, _b, inner) =>
      inner === undefined || inner === '' ? `${name}{job="${job}"}` : `${name}{job="${job}",${inner}}`,
    )
    .replace(/@@(\d+)@@/g, (_m, i: string) => groups[Number(i)]);
}

/** The interpolated quantile of observations that all fall in the bucket holding `value`. */
function quantileOf(buckets: readonly number[], value: number, q: number): number {
  const upper = buckets.find((b) => b >= value)!;
  const lower = [...buckets].reverse().find((b) => b < value) ?? 0;
  return lower + (upper - lower) * q;
}

interface App {
  child: ChildProcess;
  base: string;
  port: number;
  output: string;
}

async function startExample(name: string, source: string): Promise<App> {
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `${name}.mjs`);
  writeFileSync(file, source);
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, PORT: String(port) },
    cwd: scratch,
  });
  const app: App = { child, port, base: `http://127.0.0.1:${port}`, output: '' };
  child.stdout?.on('data', (d) => (app.output += d));
  child.stderr?.on('data', (d) => (app.output += d));
  if (!(await waitReady(`${app.base}/metrics`, 20_000, child))) {
    await stopProcess(child);
    throw new Error(`example ${name} did not serve /metrics:\n${app.output}`);
  }
  return app;
}

/** The load: [path, times]. Expected per route below. */
const WARMUP: Array<[string, number]> = [
  ['/users/1', 1],
  ['/users/0', 1],
  ['/fail', 1],
  ['/slow', 1],
];
const LOAD: Array<[string, number]> = [
  ['/users/:n', 30],
  ['/users/0', 10],
  ['/fail', 10],
  ['/slow', 10],
];
const TOTAL = 64; // warm-up and load
const MAIN = 60;

async function send(app: App, load: Array<[string, number]>): Promise<void> {
  const paths: string[] = [];
  for (const [path, n] of load) for (let i = 0; i < n; i++) paths.push(path.replace(':n', String(i + 1)));
  for (let i = 0; i < paths.length; i += 5) {
    await Promise.all(
      paths.slice(i, i + 5).map(async (p) => {
        const res = await fetch(app.base + p);
        await res.arrayBuffer();
      }),
    );
  }
}

const GUIDES: Array<[string, readonly number[]]> = [
  ['migrate-from-express-prom-bundle.md', EXPRESS_PROM_BUNDLE_BUCKETS],
  ['migrate-from-fastify-metrics.md', PROM_CLIENT_DEFAULT_BUCKETS],
  ['migrate-from-prom-client.md', PROM_CLIENT_DEFAULT_BUCKETS],
];

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.skipIf(missingBinaries().length > 0)('migration guides against real Prometheus', () => {
  for (const [file, buckets] of GUIDES) {
    it(`${file}: its examples serve what its queries expect`, async () => {
      const guide = readGuide(file);
      expect(guide.rows.length).toBeGreaterThanOrEqual(6);
      const name = file.replace(/^migrate-from-|\.md$/g, '');
      const classic = await startExample(`${name}-classic`, guide.classic);
      cleanups.push(() => stopProcess(classic.child));
      const otel = await startExample(`${name}-otel`, guide.otel);
      cleanups.push(() => stopProcess(otel.child));
      // every series exists before Prometheus' first scrape: increases then count the load exactly
      await Promise.all([send(classic, WARMUP), send(otel, WARMUP)]);
      const stack = await startStack({
        targets: [
          { job: 'classic', targets: [`127.0.0.1:${classic.port}`] },
          { job: 'otel', targets: [`127.0.0.1:${otel.port}`] },
        ],
        scrapeInterval: '1s',
      });
      cleanups.push(() => stack.stop());

      async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
        const res = await fetch(`${stack.urls.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await res.json()) as {
          status: string;
          error?: string;
          data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        };
        if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
        return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
      }
      const served = async (total: number): Promise<boolean> => {
        const a = await query('sum(http_request_duration_seconds_count{job="classic"})');
        const b = await query('sum(http_server_request_duration_seconds_count{job="otel"})');
        return a[0]?.value === total && b[0]?.value === total;
      };
      const until = async (ok: () => Promise<boolean>, what: string): Promise<void> => {
        const end = Date.now() + 40_000;
        while (!(await ok())) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await sleep(250);
        }
      };
      await until(() => served(4), 'the warm-up in Prometheus');
      await sleep(2500); // a few scrapes of the warm-up values
      await Promise.all([send(classic, LOAD), send(otel, LOAD)]);
      await until(() => served(TOTAL), 'the load in Prometheus');
      await sleep(1500);

      const expected: Record<string, (values: number[]) => void> = {
        'Requests served': (v) => expect(v).toEqual([TOTAL]),
        'Requests by route': (v) => expect(v.sort((a, b) => a - b)).toEqual([11, 11, 42]),
        'Request rate': (v) => expect(v[0]).toBeGreaterThan(0),
        'Error ratio': (v) => expect(Math.abs(v[0] - 10 / MAIN)).toBeLessThan(0.01),
        'p95 latency of a route': (v) => expect(v[0]).toBeCloseTo(quantileOf(buckets, 0.15, 0.95), 6),
        'p90 latency of a route (was the summary)': (v) =>
          expect(v[0]).toBeCloseTo(quantileOf(buckets, 0.15, 0.9), 6),
        'In flight': (v) => expect(v).toEqual([0]),
        'Users looked up (your own metric)': (v) => expect(v).toEqual([31]),
        'Process CPU (default metrics)': (v) => expect(v[0]).toBeGreaterThanOrEqual(0),
      };
      for (const row of guide.rows) {
        const check = expected[row.panel];
        expect(check, `a check for the panel "${row.panel}" of ${file}`).toBeDefined();
        const results: number[][] = [];
        for (const [job, q] of [
          ['classic', row.classic],
          ['otel', row.otel],
        ] as const) {
          expect(q, `${file} "${row.panel}": a query for ${job}`).toBeDefined();
          const values = (await query(scoped(q!, job))).map((r) => r.value);
          expect(values.length, `${file} "${row.panel}" (${job}): ${q}`).toBeGreaterThan(0);
          check(values);
          results.push(values);
        }
        // the replacement query gives the old query's value (within rate()'s extrapolation)
        if (!row.panel.startsWith('Process')) {
          const [a, b] = results.map((v) => [...v].sort((x, y) => x - y));
          a.forEach((x, i) => expect(b[i], `${file} "${row.panel}"`).toBeCloseTo(x, x > 1 ? 0 : 1));
        }
        // a query of the old library that meterline does not serve returns nothing (not a wrong number)
        if (row.before !== undefined && row.before !== row.classic) {
          expect(await query(scoped(row.before, 'classic'))).toEqual([]);
        }
      }
    });
  }
});
