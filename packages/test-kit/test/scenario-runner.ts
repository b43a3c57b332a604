/**
 * Runs one entry of scenario-table.ts against a running conformance app: sends its steps, checks every answer,
 * then reads /metrics until the expected changes are there (a response is recorded when it closes on the server,
 * which can be just after the client has read it) and asserts them against the scrape taken before.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortAfterHeaders,
  abortBeforeResponse,
  abortMidRequest,
  promtoolCheck,
  scrape,
  series,
  type Labels,
  type Scrape,
} from '@meterline/testing';
import { DEFAULT_DIFFERENCES, DURATION, thrownErrorType, type ConformanceApp, type Differences, type RunningApp } from './conformance-app.js';
import type { Amount, Answer, Declared, Expectation, Scenario, SeriesRef, Step } from './scenario-table.js';

/** How long expectations may take to show in the scrape. */
const WAIT_MS = 3000;

interface Context {
  app: ConformanceApp;
  running: RunningApp;
  base: string;
}

interface Answered {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function declared<K extends keyof Differences>(
  app: ConformanceApp,
  v: Differences[K] | Declared<K>,
): Differences[K] {
  if (typeof v !== 'object' || v === null || !('declared' in v)) return v;
  const defaults: Partial<Differences> = DEFAULT_DIFFERENCES;
  return app.differences[v.declared] ?? (defaults[v.declared] as Differences[K]);
}

async function metricsNow(base: string): Promise<Scrape> {
  const r = await scrape(base + '/metrics');
  expect(r.status).toBe(200);
  return r.scrape;
}

/** Sends one repetition of a step the way its client says; undefined where the client leaves before an answer. */
async function send(ctx: Context, step: Step, path: string, keepAlive?: Agent): Promise<Answered | undefined> {
  const { port } = ctx.running;
  switch (step.client ?? 'request') {
    case 'abort-before-response':
      await abortBeforeResponse(port, path, 50);
      return undefined;
    case 'abort-mid-body':
      await abortMidRequest(port, path, 1000, 10);
      return undefined;
    case 'abort-after-headers': {
      const line = await abortAfterHeaders(port, path);
      return { status: Number(line.split(' ')[1]), headers: {}, body: Buffer.alloc(0) };
    }
    case 'request':
    case 'keep-alive': {
      const res = await request(ctx.base + path, {
        method: (step.method ?? 'GET') as 'GET',
        body: step.body,
        headers: step.headers,
        dispatcher: keepAlive,
      });
      return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
    }
  }
}

function checkAnswer(ctx: Context, step: Step, path: string, got: Answered | undefined, want: Answer): void {
  const what = `${step.method ?? 'GET'} ${path}`;
  expect(got, what).toBeDefined();
  const res = got as Answered;
  expect(res.status, what).toBe(declared(ctx.app, want.status));
  if (want.body !== undefined) expect(res.body.toString(), what).toBe(want.body);
  if (want.bodyBytes !== undefined) expect(res.body.length, what).toBe(want.bodyBytes);
  if (want.allow !== undefined) expect(res.headers.allow, `${what}: allow`).toBe(want.allow);
  if (want.bodyExcludes !== undefined) expect(res.body.toString(), what).not.toContain(want.bodyExcludes);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    expect(res.headers[name] ?? null, `${what}: ${name}`).toBe(value);
  }
}

/** Sends every step; concurrent ones are left in flight and returned, to be awaited after `during`. */
async function sendSteps(ctx: Context, steps: Step[]): Promise<Array<Promise<void>>> {
  const inFlight: Array<Promise<void>> = [];
  for (const step of steps) {
    const times = step.times ?? 1;
    const agent = step.client === 'keep-alive' ? new Agent({ connections: 1, pipelining: 1 }) : undefined;
    for (let i = 0; i < times; i++) {
      const path = step.path.replaceAll('{i}', String(i)).replaceAll('{random}', randomUUID());
      const sent = send(ctx, step, path, agent).then((got) => {
        if (step.answer !== undefined) checkAnswer(ctx, step, path, got, step.answer);
      });
      if (step.concurrent) inFlight.push(sent);
      else await sent;
    }
    // the socket closes: its connection duration is recorded
    await agent?.close();
  }
  return inFlight;
}

function labelsOf(ctx: Context, exp: Expectation): Labels | undefined {
  if (exp.series !== undefined) return seriesLabels(ctx.app, exp.series);
  if (exp.labels === undefined) return undefined;
  const port = String(ctx.running.port);
  return Object.fromEntries(Object.entries(exp.labels).map(([k, v]) => [k, v === '{port}' ? port : v]));
}

/** Labels of an HTTP series: a 5xx carries its status code as error.type unless the error says otherwise. */
function seriesLabels(app: ConformanceApp, ref: SeriesRef): Labels {
  const route = ref.route === undefined ? undefined : declared(app, ref.route);
  const status = ref.status === undefined ? undefined : declared(app, ref.status);
  let errorType: string | undefined;
  if (ref.error === 'aborted') errorType = 'aborted';
  else if (ref.error !== undefined && 'type' in ref.error) errorType = ref.error.type;
  else if (ref.error !== undefined) errorType = thrownErrorType(app, ref.error.thrown, status ?? 500);
  else if (status !== undefined && status >= 500) errorType = String(status);
  return series(ref.method, route, status, errorType === undefined ? {} : { error_type: errorType });
}

function meets(got: number, want: Amount): boolean {
  if (typeof want === 'number') return got === want;
  return 'atLeast' in want ? got >= want.atLeast : got > want.above;
}

/** What does not hold of `exp` between the two scrapes (empty: all holds). */
function misses(ctx: Context, exp: Expectation, before: Scrape, after: Scrape): string[] {
  const out: string[] = [];
  const labels = labelsOf(ctx, exp);
  const name = `${exp.metric}${JSON.stringify(labels ?? exp.matching ?? {})}`;
  const check = (what: string, got: number, want: Amount | undefined) => {
    if (want !== undefined && !meets(got, want)) out.push(`${name} ${what}: got ${got}, want ${JSON.stringify(want)}`);
  };
  if (labels !== undefined) {
    check('count +', after.count(exp.metric, labels) - before.count(exp.metric, labels), exp.count);
    check('sum +', after.sum(exp.metric, labels) - before.sum(exp.metric, labels), exp.sum);
    check('increase', after.value(exp.metric, labels) - before.value(exp.metric, labels), exp.increase);
    check('value', after.value(exp.metric, labels), exp.value);
    for (const [le, want] of Object.entries(exp.buckets ?? {})) {
      check(`le=${le} +`, after.bucket(exp.metric, labels, le) - before.bucket(exp.metric, labels, le), want);
    }
  }
  if (exp.matching !== undefined) {
    check('total +', after.totalCount(exp.metric, exp.matching) - before.totalCount(exp.metric, exp.matching), exp.total);
  }
  if (exp.every !== undefined) {
    for (const s of after.samples(exp.metric)) check(`${JSON.stringify(s.labels)} value`, Number(s.value), exp.every);
  }
  return out;
}

/** Request-duration series whose count changed but that no expectation names. */
function unexpected(ctx: Context, expectations: Expectation[], before: Scrape, after: Scrape): string[] {
  const named = expectations.filter((e) => e.metric === DURATION);
  const exact = new Set(named.map((e) => labelsOf(ctx, e)).filter((l) => l !== undefined).map(key));
  const out: string[] = [];
  for (const labels of after.labelSets(DURATION)) {
    if (after.count(DURATION, labels) === before.count(DURATION, labels)) continue;
    if (exact.has(key(labels))) continue;
    if (named.some((e) => e.matching !== undefined && Object.entries(e.matching).every(([k, v]) => labels[k] === v))) continue;
    out.push(`${DURATION}${JSON.stringify(labels)} changed, and no expectation names it`);
  }
  return out;
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort());
}

function allMisses(ctx: Context, scenario: Scenario, before: Scrape, after: Scrape): string[] {
  const out = scenario.expect.flatMap((e) => misses(ctx, e, before, after));
  out.push(...unexpected(ctx, scenario.expect, before, after));
  for (const t of scenario.scrapeIncludes ?? []) {
    if (!(typeof t === 'string' ? after.text.includes(t) : t.test(after.text))) out.push(`scrape lacks ${String(t)}`);
  }
  for (const t of scenario.scrapeExcludes ?? []) {
    if (typeof t === 'string' ? after.text.includes(t) : t.test(after.text)) out.push(`scrape contains ${String(t)}`);
  }
  return out;
}

/** Scrapes until `holds` finds nothing missing, or the time is up; returns the last scrape and what it missed. */
async function until(base: string, find: (s: Scrape) => string[], ms: number, step = 20): Promise<{ last: Scrape; missed: string[] }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = await metricsNow(base);
    const missed = find(last);
    if (missed.length === 0 || Date.now() >= deadline) return { last, missed };
    await new Promise((r) => setTimeout(r, step));
  }
}

/** Whether the app declares the differences a scenario is written for. */
export function appliesTo(scenario: Scenario, app: ConformanceApp): boolean {
  const differences: Differences = { ...DEFAULT_DIFFERENCES, ...app.differences };
  return Object.entries(scenario.when ?? {}).every(([k, v]) => differences[k as keyof Differences] === v);
}

export async function runScenario(scenario: Scenario, ctx: Context): Promise<void> {
  const before = await metricsNow(ctx.base);
  const inFlight = await sendSteps(ctx, scenario.steps);
  if (scenario.during !== undefined) {
    const { missed } = await until(ctx.base, (s) => scenario.during!.flatMap((e) => misses(ctx, e, before, s)), 2000, 10);
    expect(missed, 'while in flight').toEqual([]);
  }
  await Promise.all(inFlight);
  const settled = await until(ctx.base, (s) => allMisses(ctx, scenario, before, s), WAIT_MS);
  expect(settled.missed).toEqual([]);
  let last = settled.last;
  if (scenario.settleMs !== undefined) {
    await new Promise((r) => setTimeout(r, scenario.settleMs));
    last = await metricsNow(ctx.base);
    expect(allMisses(ctx, scenario, before, last), `${scenario.settleMs} ms later`).toEqual([]);
  }
  if (scenario.promtool) {
    const check = promtoolCheck(last.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    const types = last.text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  }
}

/** One `it` per scenario that applies to `app`, all against one running instance of it. */
export function describeScenarios(title: string, app: ConformanceApp, scenarios: Scenario[]): void {
  const ctx = { app } as Context;
  describe(title, () => {
    beforeAll(async () => {
      ctx.running = await app.start();
      ctx.base = `http://127.0.0.1:${ctx.running.port}`;
    });
    afterAll(() => ctx.running.close());
    for (const scenario of scenarios.filter((s) => appliesTo(s, app))) it(scenario.name, () => runScenario(scenario, ctx));
  });
}
