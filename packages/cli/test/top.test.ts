import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, LOAD, startLoadedService, type LoadedService } from './load.js';

// `meterline top` end to end, from the built bin: --once as a script sees it, and live in a real terminal (tmux),
// read back with `tmux capture-pane -p`, against a service under a known load.

const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TMUX = '/usr/bin/tmux';
/** A tmux server of our own (-L): never the user's sessions. */
const SOCKET = `meterline-top-test-${process.pid}`;
/** Rates within this fraction of the load (timers on a shared CPU run late, never early). */
const RATE_TOLERANCE = 0.25;
/** Error ratios within this many percentage points (a 2 s window may cut the 1-in-5 cycle). */
const ERROR_POINTS = 8;

let service: LoadedService;
let down: string;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx turbo run build)`);
  service = await startLoadedService();
  down = `127.0.0.1:${await closedPort()}`;
  await new Promise((r) => setTimeout(r, 500)); // every route has series
});

afterAll(async () => {
  await service?.stop();
});

/** The cells of a table line, split on runs of two or more spaces or the column gaps. */
function rowOf(screen: string, route: string): string[] | undefined {
  const line = screen.split('\n').find((l) => new RegExp(`\\s${route.replace(/\//g, '\\/')}\\s`).test(l));
  return line?.trim().split(/\s+/);
}

function expectLoad(screen: string, withMethod: boolean): void {
  const at = withMethod ? 2 : 1; // cells before REQ/S: [target] [method] route
  const cells = (route: string) => {
    const c = rowOf(screen, route);
    expect(c, `${route} in\n${screen}`).toBeDefined();
    return c as string[];
  };
  const rate = (route: string) => parseFloat(cells(route)[at + 1]);
  const errors = (route: string) => parseFloat(cells(route)[at + 2]);
  for (const [route, rps] of [
    ['/api/users', LOAD.users],
    ['/api/flaky', LOAD.flaky],
    ['/api/slow', LOAD.slow],
  ] as const) {
    expect(rate(route), `${route} rate in\n${screen}`).toBeGreaterThan(rps * (1 - RATE_TOLERANCE));
    expect(rate(route), `${route} rate in\n${screen}`).toBeLessThan(rps * (1 + RATE_TOLERANCE));
  }
  expect(Math.abs(errors('/api/flaky') - 100 / LOAD.flakyFailEvery), screen).toBeLessThan(ERROR_POINTS);
  expect(errors('/api/users')).toBe(0);
  expect(errors('/api/slow')).toBe(0);
}

describe('meterline top --once', () => {
  it('prints one plain table of the known load and exits 1 naming the target that is down', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) =>
        execFile(
          process.execPath,
          [BIN, 'top', '--once', '-i', '2', service.url, down],
          (err, stdout, stderr) =>
            resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? -1), stdout, stderr }),
        ),
    );
    expect(stdout).not.toContain('\u001b['); // plain text for logs
    expect(stdout).toMatch(new RegExp(`DOWN ${down} +ECONNREFUSED`));
    expect(stdout).toMatch(
      /UP +127\.0\.0\.1:\d+ +[\d.]+ req\/s +err [\d.]+% +in-flight \d+ +net [\d.]+k?B\/s +semconv/,
    );
    expectLoad(stdout, true);
    // the slow route's ~120 ms requests all lie in (0.1, 0.25]: p95 interpolates to 0.1 + 0.15 * 0.95 s
    expect(rowOf(stdout, '/api/slow')?.[6]).toMatch(/^24[23]ms$/);
    expect(code).toBe(1);
    expect(stderr).toContain(`${down}: ECONNREFUSED`);
  }, 30_000);

  it('fails with usage for bad flags, naming them', async () => {
    for (const [args, message] of [
      [['top'], 'give at least one URL'],
      [['top', '--sort', 'speed', 'x:1'], '--sort: expected one of rate'],
      [['top', '-i', '0', 'x:1'], '--interval: expected a number'],
      [['top', '--filter', '/(/', 'x:1'], '--filter:'],
      [['top', '--bogus', 'x:1'], "Unknown option '--bogus'"],
    ] as const) {
      const err = await new Promise<Error & { code?: number; stderr?: string }>((resolve) =>
        execFile(process.execPath, [BIN, ...args], (e, _out, stderr) =>
          resolve(Object.assign(e ?? new Error('ok'), { stderr })),
        ),
      );
      expect(err.code, args.join(' ')).toBe(2);
      expect(err.stderr).toContain(message);
    }
  });
});

const tmux = (...args: string[]) =>
  execFileSync(TMUX, ['-L', SOCKET, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const screen = () => tmux('capture-pane', '-p', '-t', 'top');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check: (s: string) => boolean, what: string, ms = 20_000): Promise<string> {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    last = screen();
    if (check(last)) return last;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
}

describe.skipIf(!existsSync(TMUX) && !process.env.CI)('meterline top live, in tmux', () => {
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // the session ended with q: no server left
    }
  });

  it('shows the routes, rates and error ratios of the load; sorts, filters, fits a narrow terminal, quits', async () => {
    tmux(
      'new-session',
      '-d',
      '-s',
      'top',
      '-x',
      '120',
      '-y',
      '30',
      `${process.execPath} ${BIN} top -i 2 ${service.url} ${down}`,
    );
    // two scrapes make the first rows; one more so the window is a steady 2 s
    await waitFor((s) => /\/api\/slow/.test(s), 'the first rows');
    await sleep(2500);
    let s = await waitFor((x) => /\/api\/flaky/.test(x), 'rows');
    expect(s).toMatch(new RegExp(`DOWN ${down} +ECONNREFUSED`));
    expect(s).toContain('keys: s next sort');
    expectLoad(s, true);
    // default sort: rate, highest first
    const order = s
      .split('\n')
      .filter((l) => /\s\/api\//.test(l))
      .map((l) => /\/api\/\w+/.exec(l)?.[0]);
    expect(order).toEqual(['/api/users', '/api/flaky', '/api/slow']);

    tmux('send-keys', '-t', 'top', '2'); // sort by error ratio
    s = await waitFor((x) => /ERR%↓/.test(x), 'the error sort');
    expect(s.split('\n').find((l) => /\s\/api\//.test(l))).toContain('/api/flaky');

    tmux('send-keys', '-t', 'top', '/', 's', 'l', 'o', 'w', 'Enter'); // filter
    s = await waitFor((x) => /filter slow/.test(x) && !/\/api\/users/.test(x), 'the filter');
    expect(s).toMatch(/\/api\/slow/);
    tmux('send-keys', '-t', 'top', 'Escape');
    await waitFor((x) => /filter none/.test(x) && /\/api\/users/.test(x), 'the filter cleared');

    tmux('resize-window', '-t', 'top', '-x', '46', '-y', '12');
    s = await waitFor((x) => !/P50/.test(x) && /ROUTE/.test(x), 'the narrow layout');
    for (const line of s.split('\n')) expect(line.length, line).toBeLessThanOrEqual(46);
    expect(s).toMatch(/ROUTE +REQ\/S +ERR%↓/);
    expectLoad(await waitFor((x) => /\/api\/slow/.test(x), 'rows at 46 columns'), false);

    tmux('send-keys', '-t', 'top', 'q');
    const until = Date.now() + 5000;
    let alive = true;
    while (alive && Date.now() < until) {
      try {
        tmux('has-session', '-t', 'top');
        await sleep(100);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  }, 60_000);
});
