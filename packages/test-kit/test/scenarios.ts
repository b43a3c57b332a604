/**
 * The conformance suite: every entry of scenario-table.ts, run against an adapter's app over real HTTP on port 0.
 * Each framework's test file builds its app (apps/<framework>.ts) and calls `conformance()`; each runs in its own
 * process, so each has its own meterline runtime. Where a framework truly differs, the difference is declared in
 * its `Differences` and documented in the root README.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ConformanceApp, RunningApp } from './conformance-app.js';
import { appliesTo, runScenario } from './scenario-runner.js';
import { SCENARIOS } from './scenario-table.js';

export * from './conformance-app.js';
export { series } from '@meterline/testing';

export function conformance(app: ConformanceApp): void {
  let running: RunningApp;
  let base: string;

  describe(`${app.name}: conformance`, () => {
    beforeAll(async () => {
      running = await app.start();
      base = `http://127.0.0.1:${running.port}`;
    });
    afterAll(async () => {
      await running.close();
    });

    for (const scenario of SCENARIOS.filter((s) => appliesTo(s, app))) {
      it(scenario.name, () => runScenario(scenario, { app, running, base }));
    }
  });
}
