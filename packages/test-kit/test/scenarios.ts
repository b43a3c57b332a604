/**
 * The conformance suite: every entry of scenario-table.ts, run against an adapter's app over real HTTP on port 0.
 * Each framework's test file builds its app (apps/<framework>.ts) and calls `conformance()`; each runs in its own
 * process, so each has its own meterline runtime. Where a framework truly differs, the difference is declared in
 * its `Differences` and documented in the root README.
 */
import type { ConformanceApp } from './conformance-app.js';
import { describeScenarios } from './scenario-runner.js';
import { SCENARIOS } from './scenario-table.js';

export * from './conformance-app.js';
export { series } from '@meterline/testing';

export function conformance(app: ConformanceApp): void {
  describeScenarios(`${app.name}: conformance`, app, SCENARIOS);
}
